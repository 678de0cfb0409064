#!/usr/bin/env bash
# Wall time of `mlopt script` (and `mlopt trace` on its output, when the build has it)
# against Python's `torch.jit.script(Model())` on the same example files, side by side.
# Usage: tests/bench/script_vs_python.sh [build/apps/mlopt] [repeats]
set -euo pipefail
cd "$(dirname "$0")/../.."
MLOPT=${1:-build/apps/mlopt}
REPEATS=${2:-3}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
has_trace=0
"$MLOPT" trace --help >/dev/null 2>&1 && has_trace=1

# file class input-spec
MODELS="mlp MLP x:1x16
digits_cnn DigitsCNN x:1x1x8x8
resnet_small ResNetSmall x:1x3x32x32
lstm_classifier LSTMClassifier tokens:1x12:int64:0..100
control_flow ControlFlow x:1x8
transformer TinyTransformer tokens:1x10:int64:0..50"

now() { date +%s.%N; }
best_of() {  # best wall time of a command over REPEATS runs
  local best=
  for _ in $(seq "$REPEATS"); do
    local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
    local t; t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  echo "$best"
}

printf "%-16s %10s %10s %12s %8s\n" model mlopt_s trace_s python_s ratio
while read -r file cls spec; do
  script_s=$(best_of "$MLOPT" script "examples/models/$file.py" --class "$cls" -o "$TMP/$file.pt")
  trace_s=0
  if [ "$has_trace" = 1 ]; then
    trace_s=$(best_of "$MLOPT" trace "$TMP/$file.pt" --input "$spec" -o "$TMP/${file}_traced.pt")
  fi
  python_s=$(best_of "$PY" -c "
import importlib.util, torch
spec = importlib.util.spec_from_file_location('$file', 'examples/models/$file.py')
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
torch.jit.script(m.$cls().eval()).save('$TMP/${file}_py.pt')")
  total=$(echo "$script_s + $trace_s" | bc -l)
  printf "%-16s %10.3f %10.3f %12.3f %8.2f\n" "$file" "$script_s" "$trace_s" "$python_s" "$(echo "$python_s / $total" | bc -l)"
done <<< "$MODELS"
echo "ratio = python torch.jit.script time / (mlopt script + mlopt trace) time; > 1 means mlopt is faster"
