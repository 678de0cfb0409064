#!/usr/bin/env bash
# Quantization-aware training benchmark (not run by ctest): static PTQ vs QAT side by side in one run on
# tests/data/quantize_qat/dsconv_wide.pt (a depthwise-separable digits CNN with wide activation ranges; made by
# tests/fixtures/make_qat_fixtures.py).
#   tests/bench/qat_bench.sh [build/apps/mlopt]
# Prints held-out top-1 (359 samples) of float, PTQ and QAT for .pt (LibTorch, onednn) and .onnx (ONNX Runtime
# via tests/oracle, node).
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
