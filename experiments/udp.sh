#!/usr/bin/env bash
# The same lookups over a real UDP loopback testnet (127.150.0.0/16, one address per
# node), in the same CSV format as the simulated ones: wall-clock times of this
# machine. lookups.sh does the same with one `swarmlab lookup` process per lookup.
#
#   experiments/udp.sh [NODES] [LOOKUPS] [extra options]   (defaults: 1000 nodes, 200 lookups)
NAME=udp
NODES=${1:-1000}
LOOKUPS=${2:-200}
shift $(( $# > 2 ? 2 : $# ))
. "$(dirname "$0")/lib.sh"
run --nodes "$NODES" --lookups "$LOOKUPS" --first 127.150.0.1 "$@"
