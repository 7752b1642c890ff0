#!/usr/bin/env bash
# Lookups against network size, 1,000 to 1,000,000 nodes (tables from global knowledge, internet model): success, hops, messages, latency.
#
#   experiments/size.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=size
. "$(dirname "$0")/lib.sh"
run --values 1000,10000,100000,1000000 --lookups 1000 "$@"
