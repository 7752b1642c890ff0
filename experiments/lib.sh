# Sourced by the experiment scripts: the binary and the output directory.
#   SWARMLAB_BIN  the binary (default target/release/swarmlab, built when missing)
#   OUT           where the CSV, table and plots go (default experiments/results/NAME)
#   SEED          the seed (default 1): the same seed gives the same files
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SWARMLAB_BIN:-target/release/swarmlab}
[ -x "$BIN" ] || cargo build --release -q
SEED=${SEED:-1}
OUT=${OUT:-experiments/results/$NAME}
mkdir -p "$OUT"
run() {
  echo "+ $BIN sim --experiment $NAME --seed $SEED --csv $OUT $*" >&2
  "$BIN" sim --experiment "$NAME" --seed "$SEED" --csv "$OUT" "$@" | tee "$OUT/stdout.txt"
}
