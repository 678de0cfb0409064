#!/usr/bin/env bash
# mlopt export-onnx vs Python's torch.onnx.export (Debian python3-torch, opset 17) on the
# same TorchScript files: whole-process export wall time, file size, node count, and
# ONNX Runtime latency of both files (1 thread; both sessions in one process, their runs
# alternating, median of 3 x 60 runs each), side by side; both exporters single-threaded,
# wall time and CPU time of the whole process.
#   tests/bench/onnx_export_vs_torch.sh [MODEL...]     (needs build/ and tests/oracle/node_modules)
# Targets: latency(ours)/latency(torch) <= 1.0, export time(ours)/export time(torch) <= 0.5.
set -uo pipefail
cd "$(dirname "$0")/../.."
MLOPT=${MLOPT:-build/apps/mlopt}
PY=/usr/bin/python3
WORK=${WORK:-$(mktemp -d /tmp/mlopt-onnx-bench.XXXXXX)}
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(resnet18 mobilenet_v2 mobilenet_v3_small efficientnet_b0 regnet_y_400mf
                                  shufflenet_v2_x1_0 squeezenet1_0 densenet121 lstm transformer_encoder)

now() { date +%s.%N; }
nodes() { protoc --decode=onnx.ModelProto -I /usr/include /usr/include/onnx/onnx.proto < "$1" 2>/dev/null | grep -c 'op_type:'; }
# One model alone: best of three medians of 50 runs.
latency() {
  for _ in 1 2 3; do
    node tests/oracle/run_ort.js "$1" "$2" "$WORK/out.npz" --repeat 50 --threads 1 | sed -E 's/.*"median_ms":([0-9.]+).*/\1/'
  done | sort -g | head -1
}
# Two files side by side (tests/oracle/ort_latency_ab.js: runs alternate in one process, so the
# machine's load falls on both alike): "ms_a ms_b", the medians of the run with the median ratio.
latency_ab() {
  for _ in 1 2 3; do
    node tests/oracle/ort_latency_ab.js "$1" "$2" "$3" --repeat 60 --threads 1 |
      sed -E 's/.*"a_median_ms":([0-9.]+),"b_median_ms":([0-9.]+),"ratio":([0-9.]+).*/\3 \1 \2/'
  done | sort -g | sed -n 2p | cut -d' ' -f2-
}

printf '%-20s | %9s %9s %6s | %9s %9s %6s | %6s %6s | %9s %9s %6s\n' model "t_ours_s" "t_torch_s" ratio \
  "KB_ours" "KB_torch" "" "n_ours" "n_torch" "ms_ours" "ms_torch" ratio
for m in "${MODELS[@]}"; do
  spec=$($PY tests/bench/onnx_bench_models.py save "$m" "$WORK" 2>/dev/null | tail -1)
  # Both single-threaded (Python's torch here defaults to 1 thread); CPU time (user+sys) as well as
  # wall time, since wall time on a shared machine includes waiting for a core.
  /usr/bin/time -f "%e %U %S" -o "$WORK/time.ours" $MLOPT export-onnx "$WORK/$m.pt" --input "$spec" \
    -o "$WORK/$m.ours.onnx" -q --threads 1 || { echo "$m: mlopt failed"; continue; }
  OMP_NUM_THREADS=1 /usr/bin/time -f "%e %U %S" -o "$WORK/time.torch" \
    $PY tests/bench/onnx_bench_models.py export "$m" "$WORK/$m.pt" "$WORK/$m.torch.onnx" >/dev/null 2>&1
  rc=$?
  # (the last line: a failed command's "exited with non-zero status" line comes first)
  to=$(tail -1 "$WORK/time.ours" | awk '{print $1}'); tt=$(tail -1 "$WORK/time.torch" | awk '{print $1}')
  co=$(tail -1 "$WORK/time.ours" | awk '{print $2 + $3}'); ct=$(tail -1 "$WORK/time.torch" | awk '{print $2 + $3}')
  [ $rc -eq 0 ] && echo "$m cpu_s ours $co torch $ct ratio $(echo "$co / $ct" | bc -l | cut -c1-5)" >> "$WORK/cpu.txt"
  so=$(( $(stat -c %s "$WORK/$m.ours.onnx") / 1024 ))
  if [ $rc -ne 0 ] || [ ! -f "$WORK/$m.torch.onnx" ]; then
    lo=$(latency "$WORK/$m.ours.onnx" "$WORK/$m.npz")
    printf '%-20s | %9.2f %9s %6s | %9d %9s %6s | %6d %6s | %9.3f %9s %6s\n' "$m" "$to" fail - "$so" - "" "$(nodes "$WORK/$m.ours.onnx")" - "$lo" - -
    continue
  fi
  st=$(( $(stat -c %s "$WORK/$m.torch.onnx") / 1024 ))
  read -r lo lt < <(latency_ab "$WORK/$m.ours.onnx" "$WORK/$m.torch.onnx" "$WORK/$m.npz")
  printf '%-20s | %9.2f %9.2f %6.2f | %9d %9d %6s | %6d %6d | %9.3f %9.3f %6.2f\n' "$m" "$to" "$tt" "$(echo "$to / $tt" | bc -l)" \
    "$so" "$st" "" "$(nodes "$WORK/$m.ours.onnx")" "$(nodes "$WORK/$m.torch.onnx")" "$lo" "$lt" "$(echo "$lo / $lt" | bc -l)"
done
echo "CPU time (user+sys) of the same runs:"; cat "$WORK/cpu.txt"; rm -f "$WORK/cpu.txt"
echo "files in $WORK"
