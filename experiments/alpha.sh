#!/usr/bin/env bash
# The alpha sweep (requests in flight per lookup) on 10,000 nodes with 20% dead contacts.
#
#   experiments/alpha.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=alpha
. "$(dirname "$0")/lib.sh"
run --values 1,2,3,4,8 --nodes 10000 --dead 0.2 --lookups 500 "$@"
