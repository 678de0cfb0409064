#!/usr/bin/env bash
# Quantization-aware training benchmark (not run by ctest): static PTQ vs QAT side by side in one run on
# tests/data/quantize_qat/dsconv_wide.pt (a depthwise-separable digits CNN with wide activation ranges; made by
# tests/fixtures/make_qat_fixtures.py).
#   tests/bench/qat_bench.sh [build/apps/mlopt]
# Prints held-out top-1 (359 samples) of float, PTQ and QAT for .pt (LibTorch, onednn) and .onnx (ONNX Runtime
# via tests/oracle, node); the PTQ and QAT .pt timed interleaved in one process (`mlopt profile --compare`, batch
# 1 and 32) with their ratio; and the prune -> QAT release (configs/digits-qat-release.yaml): top-1 and file size
# of every artifact against the unpruned float model, beside static PTQ of the same pruned model.
set -euo pipefail
cd "$(dirname "$0")/../.."
MLOPT=${1:-build/apps/mlopt}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
MODEL=tests/data/quantize_qat/dsconv_wide.pt
DATA=tests/data/digits.csv.gz
COMMON=(--eval "$DATA" --reshape 1x8x8 --scale 0.0625 --min-sqnr 0 --min-top1 0)

for ext in pt onnx; do
  "$MLOPT" quantize "$MODEL" --mode static --calibration "$DATA" "${COMMON[@]}" --no-latency --json \
    -o "$WORK/ptq.$ext" > "$WORK/ptq.$ext.json" 2>/dev/null
  "$MLOPT" quantize "$MODEL" --mode qat --data "$DATA" "${COMMON[@]}" --no-latency --json \
    -o "$WORK/qat.$ext" > "$WORK/qat.$ext.json" 2>/dev/null
done
"$MLOPT" export-onnx "$MODEL" --input x:batch=1x1x8x8 -o "$WORK/float.onnx" > /dev/null

/usr/bin/python3 - "$WORK" "$DATA" <<'PY'
import gzip, json, subprocess, sys, os
import numpy as np
work, data = sys.argv[1], sys.argv[2]
sys.path.insert(0, "tests/fixtures")
from make_qat_fixtures import validation_indices
rows = np.loadtxt(gzip.open(data), delimiter=",")
val = validation_indices(len(rows))
x = (rows[val, :64] * 0.0625).astype(np.float32).reshape(-1, 1, 8, 8)
y = rows[val, 64].astype(np.int64)
np.savez(os.path.join(work, "in.npz"), x=x)

def ort_top1(path):
    out = os.path.join(work, "out.npz")
    subprocess.run(["node", "tests/oracle/run_ort.js", path, os.path.join(work, "in.npz"), out], check=True,
                   capture_output=True)
    logits = list(np.load(out).values())[0]
    return 100.0 * float((logits.argmax(1) == y).mean())

for ext in ("pt", "onnx"):
    ptq = json.load(open(os.path.join(work, "ptq.%s.json" % ext)))["accuracy"]
    qat = json.load(open(os.path.join(work, "qat.%s.json" % ext)))["accuracy"]
    print(".%s (mlopt): float %.2f%%  PTQ %.2f%% (%+.2f)  QAT %.2f%% (%+.2f)  QAT-PTQ %+.2f points" % (
        ext, ptq["before"], ptq["after"], -ptq["drop"], qat["after"], -qat["drop"], qat["after"] - ptq["after"]))
f, p, q = (ort_top1(os.path.join(work, n)) for n in ("float.onnx", "ptq.onnx", "qat.onnx"))
print(".onnx (ONNX Runtime): float %.2f%%  PTQ %.2f%% (%+.2f)  QAT %.2f%% (%+.2f)  QAT-PTQ %+.2f points" % (
    f, p, p - f, q, q - f, q - p))
PY

# QAT vs PTQ speed: the same kernels, so the same latency. A = PTQ, B = QAT, timed in interleaved rounds in one
# process (one intra-op thread: the figure is the kernels', not the scheduler's on a shared machine).
speed() {  # LABEL A.pt B.pt BATCH
  "$MLOPT" profile "$2" --compare "$3" --input x:batch=1x1x8x8 --batch "$4" --threads 1 --min-time 2 \
    --no-tuned-figure --json > "$WORK/speed.json" 2>/dev/null
  /usr/bin/python3 - "$WORK/speed.json" "$1" "$4" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["compare"]["interleaved"]
print("speed, %s, batch %s: PTQ .pt %.4f ms, QAT .pt %.4f ms, QAT/PTQ time %.3f (%s, noise %.1f%%)" % (
    sys.argv[2], sys.argv[3], c["a_ms"], c["b_ms"], c["b_ms"] / c["a_ms"], c["verdict"], 100 * c["noise"]))
PY
}
for batch in 1 32; do speed dsconv_wide "$WORK/ptq.pt" "$WORK/qat.pt" "$batch"; done

# Prune 50% of the channels -> QAT (the bundled release config), against the unpruned float model.
"$MLOPT" run configs/digits-qat-release.yaml --out "$WORK/release" -q > /dev/null 2>&1
"$MLOPT" quantize "$WORK/release/prune.pt" --mode static --calibration "$DATA" "${COMMON[@]}" --no-latency --json \
  -o "$WORK/prune_ptq.pt" > "$WORK/prune_ptq.json" 2>/dev/null
/usr/bin/python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
m = json.load(open(os.path.join(work, "release", "manifest.json")))
a = {x["path"]: x for x in m["artifacts"]}
base = a["train.pt"]
top1 = 100 * base["metrics"]["accuracy"]
print("prune->QAT release (digits-qat-release, held-out 359): unpruned float train.pt %.2f%%, %d bytes" % (
    top1, base["size"]))
for name in ("prune.pt", "qat.pt", "qat.ptl", "qat_onnx.onnx"):
    acc = a[name]["metrics"].get("accuracy")
    acc_text = "%.2f%% (%+.2f)" % (100 * acc, 100 * acc - top1) if acc is not None else "top-1 not measured"
    print("  %-14s %s, %d bytes = %.3fx of the unpruned float .pt" % (name, acc_text, a[name]["size"],
                                                                         a[name]["size"] / base["size"]))
ptq = json.load(open(os.path.join(work, "prune_ptq.json")))
print("  %-14s %.2f%% (%+.2f), %d bytes = %.3fx (static PTQ of prune.pt, for contrast)" % (
    "prune PTQ .pt", ptq["accuracy"]["after"], ptq["accuracy"]["after"] - top1, ptq["size_after"],
    ptq["size_after"] / base["size"]))
print("  gates: " + ", ".join("%s %s" % (g["gate"], "pass" if g["passed"] else "FAIL") for g in m["gates"]))
PY
for batch in 1 32; do speed "pruned DigitsCNN" "$WORK/prune_ptq.pt" "$WORK/release/qat.pt" "$batch"; done
