#!/usr/bin/env bash
# Loss (0 to 20%) and unreachable nodes (25%, 50% behind filtering NATs) on 10,000 nodes.
#
#   experiments/faults.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=faults
. "$(dirname "$0")/lib.sh"
run --values 0,0.05,0.1,0.2 --nodes 10000 --lookups 500 "$@"
