#!/usr/bin/env bash
# The soft-timeout sweep on 10,000 nodes with 20% dead contacts (the hard timeout stays 2 s, or the soft one if longer).
#
#   experiments/timeout.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=timeout
. "$(dirname "$0")/lib.sh"
run --values 125,250,500,1000,2000 --nodes 10000 --dead 0.2 --lookups 500 "$@"
