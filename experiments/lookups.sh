#!/usr/bin/env bash
# Runs LOOKUPS get_peers lookups against a loopback testnet of NODES nodes and prints a
# table: success, hops, messages and latency percentiles (from `swarmlab lookup --json`).
#
#   experiments/lookups.sh [NODES] [LOOKUPS]        (defaults: 200 nodes, 50 lookups)
#
# Traffic stays on 127.70.0.0/16 (up to 65,535 nodes). Uses target/release/swarmlab
# (built if missing), or the binary SWARMLAB_BIN names.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${1:-200}
LOOKUPS=${2:-50}
BIN=${SWARMLAB_BIN:-target/release/swarmlab}
[ -x "$BIN" ] || cargo build --release -q
OUT=$(mktemp -d)
"$BIN" testnet --nodes "$NODES" --first 127.70.0.1 > "$OUT/testnet.txt" 2>/dev/null &
NET=$!
trap 'kill $NET 2>/dev/null; rm -rf "$OUT"' EXIT
until grep -q '^testnet:' "$OUT/testnet.txt" 2>/dev/null; do sleep 0.2; done
sleep 2
for i in $(seq "$LOOKUPS"); do
  hash=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # Bootstrap from node i mod NODES, by the address the testnet printed for it (line
  # k+1 of testnet.txt is node k: "ADDR ID"), so no address is computed here.
  boot=$(sed -n "$(( i % NODES + 1 ))p" "$OUT/testnet.txt" | cut -d' ' -f1)
  "$BIN" lookup "$hash" --bootstrap "$boot" --json > "$OUT/lookup-$i.json"
done
python3 - "$OUT" "$NODES" <<'PY'
import glob, json, statistics, sys
out, nodes = sys.argv[1], sys.argv[2]
rs = [json.load(open(f)) for f in glob.glob(out + "/lookup-*.json")]
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]
lat = [r["elapsed_ms"] for r in rs]
msgs = [r["messages"] for r in rs]
hops = [r["hops"] for r in rs]
ok = sum(1 for r in rs if len(r["closest"]) >= 8)
print(f"{'nodes':>6} {'lookups':>8} {'k closest':>10} {'hops p50':>9} {'msgs p50':>9} {'msgs p90':>9} {'ms p50':>8} {'ms p90':>8}")
print(f"{nodes:>6} {len(rs):>8} {ok:>10} {statistics.median(hops):>9} {statistics.median(msgs):>9} {pct(msgs, 90):>9} {statistics.median(lat):>8.2f} {pct(lat, 90):>8.2f}")
PY
