#!/usr/bin/env bash
# Wall time of `mlopt trace` vs Python's torch.jit.trace on the same scripted model
# (process start, model load, trace and save for both; both check the trace: mlopt on 3 fresh inputs,
# torch.jit.trace with check_trace=True re-traces on the example).
# Usage: tests/bench/trace_vs_python.sh [RUNS]   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
MLOPT=${MLOPT:-build/apps/mlopt}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

best() {  # best-of-RUNS wall seconds of a command
  local best=999999
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    best=$(echo "$e - $s" | bc -l | awk -v b="$best" '{print ($1 < b) ? $1 : b}')
  done
  echo "$best"
}

run_case() {
  local model=$1 cls=$2 shape=$3
  local m p
  m=$(best "$MLOPT" trace "$model" --input "x:batch=$shape" -o "$TMP/m.pt")
  m_nocheck=$(best "$MLOPT" trace "$model" --input "x:batch=$shape" -o "$TMP/m.pt" --no-check)
  p=$(best /usr/bin/python3 -c "
import sys, torch
sys.path.insert(0, 'tests/fixtures')
from make_trace_fixtures import $cls
# torch.jit.trace on a ScriptModule is a no-op, so trace the eager model with the same weights.
m = $cls()
m.load_state_dict(torch.jit.load('$model').state_dict())
m.eval()
x = torch.randn($(echo "$shape" | tr x ,))
with torch.no_grad():
    t = torch.jit.trace(m, x, check_trace=True)
t.save('$TMP/p.pt')")
  printf '%-32s mlopt %.3fs (no check %.3fs)  python %.3fs  ratio mlopt/python %.2f\n' \
    "$(basename "$model")" "$m" "$m_nocheck" "$p" "$(echo "$m / $p" | bc -l)"
}

run_case tests/data/trace/cnn.pt Cnn 2x3x8x8
