#!/usr/bin/env bash
# Size estimation accuracy: 16 and 64 lookups for random ids, 1,000 to 1,000,000 nodes.
#
#   experiments/estimate.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=estimate
. "$(dirname "$0")/lib.sh"
run --values 1000,10000,100000,1000000 --lookups 1024 "$@"
