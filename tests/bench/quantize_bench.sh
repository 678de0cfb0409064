#!/usr/bin/env bash
# Quantize benchmark (not run by ctest): sizes and fp32-vs-int8 latency measured side by side in one mlopt run.
#   tests/bench/quantize_bench.sh [build/apps/mlopt]
# Models (made here with Debian's python3-torch, random weights): an LSTM text classifier, a transformer
# feed-forward stack and a small CNN. Prints size ratios and speedups (onednn engine).
set -euo pipefail
cd "$(dirname "$0")/../.."
MLOPT=${1:-build/apps/mlopt}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 - "$WORK" <<'PY'
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
