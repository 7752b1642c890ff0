#!/usr/bin/env bash
# Success and cost against churn: Weibull sessions of shape 0.38 and scale 60, 30, 10, 3 min (and none) on 5,000 nodes (tables aged up to 15 min, so refreshes spread), lookups after 30 simulated minutes of churn.
#
#   experiments/churn.sh [extra swarmlab sim options]     (SEED=, OUT=, SWARMLAB_BIN=)
NAME=churn
. "$(dirname "$0")/lib.sh"
run --values 0,60,30,10,3 --nodes 5000 --age-s 900 --warmup-s 1800 --lookups 500 --interval-ms 1000 "$@"
