#!/usr/bin/env bash
# Benchmark of `mlopt distill` on the digits data (not run by ctest):
#  1. a DigitsCNN teacher trained by mlopt (--alpha 0): validation accuracy (target >= 97%);
#  2. the DigitsStudent (>= 5x fewer parameters) trained alone vs distilled from that teacher
#     (target: distilled within 2 points of the teacher and better than alone);
#  3. training throughput (samples/s) of mlopt vs an ordinary PyTorch Python loop
#     (tests/bench/distill_torch_loop.py) on the same TorchScript model, batch and thread count.
# usage: tests/bench/distill_bench.sh   (MLOPT=path/to/mlopt, EPOCHS, THREADS override)
set -euo pipefail
cd "$(dirname "$0")/../.."
MLOPT=${MLOPT:-build/apps/mlopt}
PY=/usr/bin/python3
EPOCHS=${EPOCHS:-40}
THREADS=${THREADS:-1}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
DATA=(--data tests/data/digits.csv.gz --reshape 1x8x8 --scale 0.0625 --seed 1)
TEACHER_MODEL=tests/data/distill/digits_cnn.pt
STUDENT_MODEL=tests/data/distill/digits_student.pt
field() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d'+sys.argv[2]))" "$@"; }

echo "== 1. teacher (DigitsCNN) trained by mlopt, --alpha 0"
$MLOPT distill --student $TEACHER_MODEL --alpha 0 --epochs 20 --lr 0.003 --schedule cosine "${DATA[@]}" \
  --no-latency --json -q -o "$OUT/teacher.pt" >"$OUT/teacher.json"
echo "teacher val accuracy: $(field "$OUT/teacher.json" "['student']['accuracy']")"

echo "== 2. student (DigitsStudent): alone vs distilled, $EPOCHS epochs each"
COMMON=(--student $STUDENT_MODEL --epochs "$EPOCHS" --lr 0.005 --schedule cosine "${DATA[@]}" --json -q)
$MLOPT distill "${COMMON[@]}" --alpha 0 --no-latency -o "$OUT/alone.pt" >"$OUT/alone.json"
$MLOPT distill "${COMMON[@]}" --teacher "$OUT/teacher.pt" --alpha 0.7 --temperature 4 -o "$OUT/distilled.pt" \
  >"$OUT/distilled.json"
$PY - "$OUT" <<'PYEOF'
import json, sys
d = sys.argv[1]
t = json.load(open(f"{d}/teacher.json")); a = json.load(open(f"{d}/alone.json")); s = json.load(open(f"{d}/distilled.json"))
ta, aa, sa = t["student"]["accuracy"], a["student"]["accuracy"], s["student"]["accuracy"]
print(f"teacher {100*ta:.2f}%  student alone {100*aa:.2f}%  student distilled {100*sa:.2f}%")
print(f"distilled - teacher: {100*(sa-ta):+.2f} points; distilled - alone: {100*(sa-aa):+.2f} points")
print(f"parameter ratio {s['parameter_ratio']:.1f}x, size ratio {s['size_ratio']:.1f}x, latency ratio {s['latency_ratio']:.2f}x, "
      f"agreement {100*s['agreement']:.2f}%, KL {s['kl']:.4f}")
print(f"targets: teacher >= 97%: {ta >= 0.97}; within 2 points: {sa >= ta - 0.02}; beats alone: {sa > aa}; "
      f">= 5x fewer params: {s['parameter_ratio'] >= 5}")
PYEOF

echo "== 3. throughput, $THREADS thread(s), batch 64, 5 epochs (validation included on both sides)"
for model in $STUDENT_MODEL $TEACHER_MODEL; do
  $MLOPT distill --student "$model" --alpha 0 --epochs 5 --batch-size 64 --threads "$THREADS" "${DATA[@]}" \
    --no-latency --json -q -o "$OUT/tp.pt" >"$OUT/tp.json"
  ours=$(field "$OUT/tp.json" "['training']['samples_per_second']")
  theirs=$($PY tests/bench/distill_torch_loop.py --model "$model" --data tests/data/digits.csv.gz --epochs 5 \
    --batch-size 64 --threads "$THREADS" | $PY -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])")
  $PY -c "import sys; o,t=float(sys.argv[2]),float(sys.argv[3]); print(f'{sys.argv[1]}: supervised  mlopt {o:.0f} samples/s, PyTorch loop {t:.0f} samples/s, ratio {o/t:.2f}x')" "$(basename "$model")" "$ours" "$theirs"
done
# Distillation step: mlopt computes the teacher's logits once (eval mode, no augmentation);
# the Python loop runs the teacher on every batch, as such loops usually do.
$MLOPT distill --teacher "$OUT/teacher.pt" --student $STUDENT_MODEL --epochs 5 --batch-size 64 --threads "$THREADS" \
  "${DATA[@]}" --no-latency --json -q -o "$OUT/tp.pt" >"$OUT/tp.json"
ours=$(field "$OUT/tp.json" "['training']['samples_per_second']")
theirs=$($PY tests/bench/distill_torch_loop.py --model $STUDENT_MODEL --teacher "$OUT/teacher.pt" \
  --data tests/data/digits.csv.gz --epochs 5 --batch-size 64 --threads "$THREADS" |
  $PY -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])")
$PY -c "import sys; o,t=float(sys.argv[1]),float(sys.argv[2]); print(f'distillation (student from teacher): mlopt {o:.0f} samples/s, PyTorch loop {t:.0f} samples/s, ratio {o/t:.2f}x')" "$ours" "$theirs"
