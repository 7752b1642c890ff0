#!/usr/bin/env bash
# Tables from global knowledge against a grown network (3 random bootstrap nodes, 100 ms apart), 2,000 to 20,000 nodes.
#
#   experiments/init.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=init
. "$(dirname "$0")/lib.sh"
run --values 2000,5000,20000 --lookups 500 "$@"
