#!/usr/bin/env bash
# The 2007 regime (Crosby and Wallach: minutes) and the tuned one (Jimenez et al.: 100-200 ms), and one change at a time, on 20,000 nodes.
#
#   experiments/regimes.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=regimes
. "$(dirname "$0")/lib.sh"
run --nodes 20000 --lookups 300 --interval-ms 1000 "$@"
