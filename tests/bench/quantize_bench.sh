#!/usr/bin/env bash
# Quantize benchmark (not run by ctest): sizes and fp32-vs-int8 latency measured side by side in one run.
#   tests/bench/quantize_bench.sh [build/apps/mlopt]
# Models (made here with Debian's python3-torch, random weights): an LSTM text classifier, a transformer
# feed-forward stack and a small CNN; plus the digits CNN fixture (trained) for accuracy.
# Prints, for .pt (LibTorch, onednn) and .onnx (ONNX Runtime via tests/oracle, node): size ratios vs fp32,
# speedups vs fp32, and digits top-1 before/after static int8.
set -euo pipefail
cd "$(dirname "$0")/../.."
MLOPT=${1:-build/apps/mlopt}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# (written to a file: torch.jit.script reads the classes' source, which stdin does not keep)
cat > "$WORK/models.py" <<'PY'
import sys, torch, torch.nn as nn, torch.nn.functional as F
out = sys.argv[1]
torch.manual_seed(0)
class TextLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(5000, 256)
        self.lstm = nn.LSTM(256, 512, batch_first=True)
        self.fc = nn.Linear(512, 8)
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out[:, -1, :])
class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.ff1 = nn.Linear(512, 2048)
        self.ff2 = nn.Linear(2048, 512)
        self.norm = nn.LayerNorm(512)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.ff2(F.gelu(self.ff1(x))))
class TextTransformerFF(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([FeedForward() for _ in range(4)])
        self.head = nn.Linear(512, 8)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for b in self.blocks:
            x = b(x)
        return self.head(x.mean(dim=1))
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 64, 3, padding=1); self.b1 = nn.BatchNorm2d(64)
        self.c2 = nn.Conv2d(64, 128, 3, padding=1); self.b2 = nn.BatchNorm2d(128)
        self.c3 = nn.Conv2d(128, 256, 3, padding=1); self.b3 = nn.BatchNorm2d(256)
        self.fc = nn.Linear(256, 10)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)
        x = F.relu(self.b3(self.c3(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
for name, m in [("lstm", TextLSTM()), ("transformer_ff", TextTransformerFF()), ("cnn", CNN())]:
    torch.jit.script(m.eval()).save(f"{out}/{name}.pt")
PY
/usr/bin/python3 "$WORK/models.py" "$WORK"
run() {  # name mode input out
  "$MLOPT" quantize "$WORK/$1.pt" --mode "$2" --input "$3" --latency-iters 20 --json -q -o "$WORK/$4" > "$WORK/$4.json"
  /usr/bin/python3 - "$WORK/$4.json" "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); lat = j.get("latency", {})
print(f"{sys.argv[2]:<15} {sys.argv[3]:<8} size {j['size_before']/1e6:7.2f} MB -> {j['size_after']/1e6:6.2f} MB "
      f"({j['size_ratio']:.3f}x)  batch {lat.get('batch')}: fp32 {lat.get('float_ms', 0):8.2f} ms  "
      f"{sys.argv[3]} {lat.get('quantized_ms', 0):8.2f} ms  speedup {lat.get('speedup', 0):.2f}x  "
      f"SQNR {j['output_sqnr_db']:.1f} dB")
PY
}
echo "engine onednn, $(nproc) cores"
run lstm dynamic tokens:batch=32x32:int64:0..5000 lstm.int8.pt
run transformer_ff dynamic x:batch=32x32x512 tff.int8.pt
run cnn static x:batch=8x3x32x32 cnn.int8.pt
run cnn fp16 x:batch=8x3x32x32 cnn.fp16.pt
run transformer_ff fp16 x:batch=32x32x512 tff.fp16.pt

# ONNX: float export, then quantize the .onnx; timed in ONNX Runtime (tests/oracle/run_ort.js, node).
ORT=tests/oracle/run_ort.js
if [ ! -d tests/oracle/node_modules/onnxruntime-node ]; then echo "ONNX part skipped: tests/oracle/node_modules missing"; exit 0; fi
/usr/bin/python3 - "$WORK" <<'PY'
import sys, numpy as np
out = sys.argv[1]; rng = np.random.default_rng(0)
np.savez(f"{out}/cnn_in.npz", x=rng.random((8, 3, 32, 32), dtype=np.float32))
np.savez(f"{out}/tff_in.npz", x=rng.standard_normal((32, 32, 512), dtype=np.float32))
PY
ort_ms() {  # model.onnx inputs.npz -> median ms
  node "$ORT" "$1" "$2" "$WORK/ort_out.npz" --repeat 30 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])'
}
onnx_row() {  # label float.onnx quant.onnx inputs.npz quant.json
  local f q
  f=$(ort_ms "$2" "$4"); q=$(ort_ms "$3" "$4")
  /usr/bin/python3 - "$1" "$f" "$q" "$5" <<'PY'
import json, sys
label, f, q = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]); j = json.load(open(sys.argv[4]))
print(f"{label:<24} size {j['size_before']/1e6:7.2f} MB -> {j['size_after']/1e6:6.2f} MB ({j['size_ratio']:.3f}x)  "
      f"ORT fp32 {f:8.2f} ms  {j['mode']} {q:8.2f} ms  speedup {f/q:.2f}x  SQNR {j['output_sqnr_db']:.1f} dB")
PY
}
"$MLOPT" export-onnx "$WORK/cnn.pt" --input x:batch=8x3x32x32 -q -o "$WORK/cnn.onnx"
"$MLOPT" export-onnx "$WORK/transformer_ff.pt" --input x:batch=32x32x512 -q -o "$WORK/tff.onnx"
"$MLOPT" quantize "$WORK/cnn.onnx" --mode static --json -q -o "$WORK/cnn.int8.onnx" > "$WORK/cnn.int8.onnx.json"
"$MLOPT" quantize "$WORK/cnn.onnx" --mode fp16 --json -q -o "$WORK/cnn.fp16.onnx" > "$WORK/cnn.fp16.onnx.json"
"$MLOPT" quantize "$WORK/tff.onnx" --mode dynamic --json -q -o "$WORK/tff.int8.onnx" > "$WORK/tff.int8.onnx.json"
"$MLOPT" quantize "$WORK/tff.onnx" --mode fp16 --json -q -o "$WORK/tff.fp16.onnx" > "$WORK/tff.fp16.onnx.json"
echo "ONNX Runtime (node), $(nproc) cores, batch 8 (cnn) / 32 (transformer_ff)"
onnx_row "cnn.onnx static" "$WORK/cnn.onnx" "$WORK/cnn.int8.onnx" "$WORK/cnn_in.npz" "$WORK/cnn.int8.onnx.json"
onnx_row "cnn.onnx fp16" "$WORK/cnn.onnx" "$WORK/cnn.fp16.onnx" "$WORK/cnn_in.npz" "$WORK/cnn.fp16.onnx.json"
onnx_row "tff.onnx dynamic" "$WORK/tff.onnx" "$WORK/tff.int8.onnx" "$WORK/tff_in.npz" "$WORK/tff.int8.onnx.json"
onnx_row "tff.onnx fp16" "$WORK/tff.onnx" "$WORK/tff.fp16.onnx" "$WORK/tff_in.npz" "$WORK/tff.fp16.onnx.json"

# Accuracy: the digits CNN (trained on the seeded 80% split), top-1 on the 20% split, static int8.
DIGITS=(--calibration tests/data/digits.csv.gz --eval tests/data/digits.csv.gz --reshape 1x8x8 --scale 0.0625)
"$MLOPT" quantize tests/data/quantize_digits_cnn.pt --mode static "${DIGITS[@]}" --no-latency --json -q \
  -o "$WORK/digits.int8.pt" > "$WORK/digits_pt.json"
"$MLOPT" quantize tests/data/quantize_digits_cnn.pt --mode static --input x:batch=1x1x8x8 "${DIGITS[@]}" --json -q \
  -o "$WORK/digits.int8.onnx" > "$WORK/digits_onnx.json"
"$MLOPT" quantize tests/data/quantize_digits_mlp.pt --mode dynamic "${DIGITS[@]}" --no-latency --json -q \
  -o "$WORK/digits_mlp.int8.pt" > "$WORK/digits_mlp.json"
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys
for name, label in [("digits_pt", "digits CNN static .pt"), ("digits_onnx", "digits CNN static .onnx"),
                    ("digits_mlp", "digits MLP dynamic .pt")]:
    a = json.load(open(f"{sys.argv[1]}/{name}.json"))["accuracy"]
    print(f"{label:<24} top-1 {a['before']:.2f}% -> {a['after']:.2f}% (drop {a['drop']:.2f} points), "
          f"agreement with fp32 {a['agreement']:.2f}% on {a['samples']} samples")
PY
