#!/usr/bin/env bash
# Transformer int8 benchmark (not run by ctest): `mlopt quantize --mode dynamic` of encoders built from PyTorch's
# standard modules, timed against float side by side in one process (runs alternate A, B, A, B, ...), at 1 thread
# and at all threads.
#   scripts/bench-transformer.sh [--small-only | --base-only] [build/apps/mlopt]
# Models (Python builds them here, random weights, each layer its own):
# - small: BERT-like, nn.Embedding(8000, 256) + 4 x nn.TransformerEncoderLayer(256, 4 heads, FF 1024, GELU,
#   batch_first) in nn.TransformerEncoder, pooled classifier; batch 32 x 64 tokens.
# - base: BERT-base-shaped, nn.Embedding(30522, 768) + positions + 12 x nn.TransformerEncoderLayer(768, 12 heads,
#   FF 3072, GELU, batch_first), tanh pooler, classifier; batch 8 x 128 tokens.
# Both take token ids; token 0 is padding (right-padded batches: the encoder gets a key padding mask, and in eval
# mode PyTorch runs its fused fast path with nested tensors on the float model).
# Prints per model, in a default process and again with the allocator settings mlopt recommends (the settings
# `mlopt profile` names and `mlopt serve` applies): file size ratio, speedup (LibTorch .pt, onednn; timed on
# full-length sequences: on padded ones
# the fused float path skips the padding through nested tensors), logits cosine and top-1 agreement with float
# on padded batches of several lengths; for `base` also ONNX Runtime (float .onnx by `mlopt export-onnx` on
# unpadded input, then `mlopt quantize --mode dynamic`), timed with tests/oracle/ort_latency_ab.js.
set -euo pipefail
cd "$(dirname "$0")/.."
# --prune-quantize: only the prune + int8 section at the end of this file.
if [ "${1:-}" = "--prune-quantize" ]; then
  shift; exec env BENCH_SCRIPT=scripts/bench-transformer.sh bash <(sed -n '/^# ==== prune + quantize/,$p' scripts/bench-transformer.sh) "$@"
fi
SMALL_ONLY=0; MODELS=(small base)
if [ "${1:-}" = "--small-only" ]; then SMALL_ONLY=1; MODELS=(small); shift; fi
if [ "${1:-}" = "--base-only" ]; then MODELS=(base); shift; fi
MLOPT=${1:-build/apps/mlopt}
WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$WORK"' EXIT
# (written to a file: torch.jit.script reads the classes' source, which stdin does not keep)
cat > "$WORK/models.py" <<'PY'
import sys, torch, torch.nn as nn
class Bert(nn.Module):
    def __init__(self, vocab, d, heads, ff, layers, classes=4, max_len=512, pad_mask=True):
        super().__init__()
        self.pad_mask = pad_mask
        self.embedding = nn.Embedding(vocab, d)
        self.position = nn.Embedding(max_len, d)
        self.norm = nn.LayerNorm(d)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.pooler = nn.Linear(d, d)
        self.classifier = nn.Linear(d, classes)
        for p in self.encoder.parameters():  # nn.TransformerEncoder copies one layer: each its own weights
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)
    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.size(1), device=tokens.device).unsqueeze(0)
        x = self.norm(self.embedding(tokens) + self.position(positions))
        padding = torch.cumsum((tokens == 0).to(torch.int64), dim=1) > 0
        padding[:, 0] = False
        h = self.encoder(x, src_key_padding_mask=padding) if self.pad_mask else self.encoder(x)
        return self.classifier(torch.tanh(self.pooler(h[:, 0])))
out, which = sys.argv[1], sys.argv[2:]
shapes = {"small": (8000, 256, 4, 1024, 4), "base": (30522, 768, 12, 3072, 12)}
for name in which:
    torch.manual_seed(0)
    v, d, h, f, l = shapes[name]
    torch.jit.script(Bert(v, d, h, f, l).eval()).save(f"{out}/{name}.pt")
    if name == "base":  # ONNX export takes the unpadded form (no nested tensors)
        torch.manual_seed(0)
        torch.jit.script(Bert(v, d, h, f, l, pad_mask=False).eval()).save(f"{out}/{name}_nomask.pt")
PY
cat > "$WORK/ab.py" <<'PY'
# Interleaved A/B timing of float vs int8 in one process; cosine and top-1 agreement on padded batches.
import os, sys, time, statistics, torch
torch.backends.quantized.engine = "onednn"
fp, q8, batch, seq, vocab, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
a, b = torch.jit.load(fp).eval(), torch.jit.load(q8).eval()
g = torch.Generator().manual_seed(0)
def padded(n, seed):
    g.manual_seed(seed)
    t = torch.randint(1, vocab, (n, seq), generator=g)
    for i in range(n):
        length = max(2, seq - (i * 7919) % seq)
        t[i, length:] = 0
    return t
x = torch.randint(1, vocab, (batch, seq), generator=g)  # timed: full-length sequences (no padding to skip)
size = os.path.getsize(q8) / os.path.getsize(fp)
with torch.no_grad():
    agree = total = 0; cos = []
    for seed in range(2, 6 if rounds > 3 else 4):  # fewer for BERT-base
        t = padded(batch, seed)
        ya, yb = a(t), b(t)
        cos.append(torch.nn.functional.cosine_similarity(ya.flatten(), yb.flatten(), dim=0).item())
        agree += (ya.argmax(1) == yb.argmax(1)).sum().item(); total += t.size(0)
    line = f"size {os.path.getsize(fp)/1e6:7.1f} MB -> {os.path.getsize(q8)/1e6:6.1f} MB ({size:.3f}x)  cosine min {min(cos):.4f}  top-1 agreement {100*agree/total:.1f}% ({total})"
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for _ in range(2 if rounds > 3 else 1): a(x); b(x)
        ta, tb = [], []
        for _ in range(rounds):
            s = time.perf_counter(); a(x); ta.append(time.perf_counter() - s)
            s = time.perf_counter(); b(x); tb.append(time.perf_counter() - s)
        fa, fb = statistics.median(ta) * 1e3, statistics.median(tb) * 1e3
        line += f"\n    {threads} thread(s): fp32 {fa:9.1f} ms  int8 {fb:9.1f} ms  speedup {fa/fb:.2f}x"
print(line)
PY
/usr/bin/python3 "$WORK/models.py" "$WORK" "${MODELS[@]}" 2>/dev/null
echo "engine onednn, $(nproc) cores; interleaved A/B in one process"
for name in "${MODELS[@]}"; do
  if [ "$name" = small ]; then batch=32; seq=64; vocab=8000; rounds=10; else batch=8; seq=128; vocab=30522; rounds=3; fi
  "$MLOPT" quantize "$WORK/$name.pt" --mode dynamic --engine onednn --input "tokens:batch=${batch}x${seq}:int64:1..$vocab" \
    --no-latency --json -q -o "$WORK/$name.int8.pt" > "$WORK/$name.int8.json"
  /usr/bin/python3 - "$WORK/$name.int8.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("  kernels:", ", ".join(f"{k} x{v}" for k, v in j["quantized_ops"].items()),
      f"| float layers: {sum(not l['quantized'] for l in j['layers'])} of {len(j['layers'])} | SQNR {j['output_sqnr_db']:.1f} dB")
PY
  echo "$name (batch $batch x $seq tokens) .pt dynamic int8, a default process (glibc's allocator defaults):"
  echo "    $(/usr/bin/python3 "$WORK/ab.py" "$WORK/$name.pt" "$WORK/$name.int8.pt" $batch $seq $vocab $rounds)"
  # The allocator settings mlopt recommends (profile's figure beside the default one; serve applies them): with
  # glibc's defaults, whether freed pages are trimmed and faulted in again on every call turns on the heap's layout.
  tuned=$("$MLOPT" profile "$WORK/$name.int8.pt" --input "tokens:batch=1x8:int64:1..$vocab" --latency-only --iters 1 \
    --json -q | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["allocator_settings"])')
  echo "  the same with $tuned:"
  echo "    $(env $tuned /usr/bin/python3 "$WORK/ab.py" "$WORK/$name.pt" "$WORK/$name.int8.pt" $batch $seq $vocab $rounds)"
done
[ "$SMALL_ONLY" = 1 ] && exit 0

# ONNX Runtime: float .onnx (mlopt export-onnx, unpadded input) vs its dynamic int8.
if [ ! -d tests/oracle/node_modules/onnxruntime-node ]; then echo "ONNX part skipped: tests/oracle/node_modules missing"; exit 0; fi
"$MLOPT" export-onnx "$WORK/base_nomask.pt" --input tokens:batch=8x128:int64:1..30522 -q -o "$WORK/base.onnx"
"$MLOPT" quantize "$WORK/base.onnx" --mode dynamic --json -q -o "$WORK/base.int8.onnx" > "$WORK/base.int8.onnx.json"
/usr/bin/python3 - "$WORK" <<'PY'
import sys, numpy as np
np.savez(f"{sys.argv[1]}/base_in.npz", tokens=np.random.default_rng(0).integers(1, 30522, (8, 128), dtype=np.int64))
PY
echo "base .onnx dynamic int8 in ONNX Runtime (batch 8 x 128):"
for threads in 1 0; do
  node tests/oracle/ort_latency_ab.js "$WORK/base.onnx" "$WORK/base.int8.onnx" "$WORK/base_in.npz" --repeat 5 \
    --threads $threads > "$WORK/ort_$threads.json"
  /usr/bin/python3 - "$WORK/base.int8.onnx.json" "$WORK/ort_$threads.json" "$threads" <<'PY'
import json, sys
j, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ops = j["quantized_ops"]
print(f"    threads {sys.argv[3] if sys.argv[3] != '0' else 'all'}: size {j['size_before']/1e6:.1f} MB -> {j['size_after']/1e6:.1f} MB "
      f"({j['size_ratio']:.3f}x)  fp32 {t['a_median_ms']:.1f} ms  int8 {t['b_median_ms']:.1f} ms  speedup {t['ratio']:.2f}x  "
      f"SQNR {j['output_sqnr_db']:.1f} dB  MatMulInteger x{ops.get('MatMulInteger', 0)}  "
      f"float: {sum(not l['quantized'] for l in j['layers'])} of {len(j['layers'])}")
PY
done
exit 0  # the section below runs on its own, with --prune-quantize

# ==== prune + quantize (--prune-quantize) =========================================================================
#   scripts/bench-transformer.sh --prune-quantize [build/apps/mlopt]
# The BERT-base-shaped model (the Bert class above), `mlopt prune --method channel --amount 0.3`: 30% of the
# feed-forward channels (3072 -> 2150) and round(0.3 x 12) = 4 of the 12 heads of every layer removed; then
# `mlopt quantize --mode dynamic --engine onednn`. The pruned int8 .pt against the float .pt: file size, speed at
# batch 8 x 128 tokens (interleaved A/B in one process, 1 thread and all), logits cosine and top-1 agreement on
# padded batches of several lengths. Random weights: agreement measures how far pruning moves the outputs, not
# accuracy (no recovery training here; `mlopt prune --finetune` does that).
set -euo pipefail
MLOPT=${1:-build/apps/mlopt}
WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$WORK"' EXIT
{ echo "import torch, torch.nn as nn"; sed -n '/^class Bert/,/^out, which/p' "$BENCH_SCRIPT" | sed '$d'; cat <<'PY'
import sys
torch.manual_seed(0)
torch.jit.script(Bert(30522, 768, 12, 3072, 12).eval()).save(sys.argv[1])
PY
} > "$WORK/prune_model.py"
/usr/bin/python3 "$WORK/prune_model.py" "$WORK/bert.pt" 2>/dev/null
IN=tokens:batch=8x128:int64:1..30522
"$MLOPT" prune "$WORK/bert.pt" --method channel --amount 0.3 --input $IN --json -q -o "$WORK/bert.pruned.pt" \
  > "$WORK/prune.json"
"$MLOPT" quantize "$WORK/bert.pruned.pt" --mode dynamic --engine onednn --input $IN --no-latency --json -q \
  -o "$WORK/bert.pruned.int8.pt" > "$WORK/quantize.json"
/usr/bin/python3 - "$WORK" <<'PY'
import json, os, statistics, sys, time, torch, warnings
warnings.filterwarnings("ignore")
torch.backends.quantized.engine = "onednn"
w = sys.argv[1]
p, q = json.load(open(f"{w}/prune.json")), json.load(open(f"{w}/quantize.json"))
heads = sorted({(a["heads_before"], a["heads_after"]) for a in p["attention"]})
ff = sorted({tuple(l["shape_after"]) for l in p["layers"] if l["name"].endswith("linear1")})
t = p["totals"]
print(f"BERT-base pruned (channel 0.3): heads {heads}, linear1 {ff}, parameters {t['params_before']/1e6:.1f} M -> "
      f"{t['params_after']/1e6:.1f} M; int8 kernels: " + ", ".join(f"{k} x{v}" for k, v in q["quantized_ops"].items()) +
      f"; SQNR vs pruned float {q['output_sqnr_db']:.1f} dB")
fp, pf, pq = f"{w}/bert.pt", f"{w}/bert.pruned.pt", f"{w}/bert.pruned.int8.pt"
a, b, c = torch.jit.load(fp).eval(), torch.jit.load(pq).eval(), torch.jit.load(pf).eval()
g = torch.Generator().manual_seed(0)
def padded(n, seq, seed):
    g.manual_seed(seed)
    x = torch.randint(1, 30522, (n, seq), generator=g)
    for i in range(1, n):  # row 0 full length
        x[i, max(2, seq - (i * 7919) % seq):] = 0
    return x
with torch.no_grad():
    cosine = lambda u, v: torch.nn.functional.cosine_similarity(u.flatten(), v.flatten(), dim=0).item()
    cos, cos_pf, cos_q, agree, agree_pf, total = [], [], [], 0, 0, 0
    for seed, seq in ((2, 128), (3, 64), (4, 100)):
        x = padded(8, seq, seed)
        ya, yb, yc = a(x), b(x), c(x)
        cos.append(cosine(ya, yb)); cos_pf.append(cosine(ya, yc)); cos_q.append(cosine(yc, yb))
        agree += (ya.argmax(1) == yb.argmax(1)).sum().item(); total += x.size(0)
        agree_pf += (ya.argmax(1) == yc.argmax(1)).sum().item()
    size = os.path.getsize(pq) / os.path.getsize(fp)
    print(f"  size {os.path.getsize(fp)/1e6:.1f} MB -> {os.path.getsize(pq)/1e6:.1f} MB ({size:.3f}x)  "
          f"vs float: logits cosine min {min(cos):.4f}, top-1 agreement {100*agree/total:.1f}% ({total}); "
          f"pruned float alone: cosine min {min(cos_pf):.4f}, agreement {100*agree_pf/total:.1f}%; "
          f"int8 vs pruned float: cosine min {min(cos_q):.4f}")
    x = torch.randint(1, 30522, (8, 128), generator=g)  # timed: full-length sequences
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        a(x); b(x)
        ta, tb = [], []
        for _ in range(3):
            s = time.perf_counter(); a(x); ta.append(time.perf_counter() - s)
            s = time.perf_counter(); b(x); tb.append(time.perf_counter() - s)
        fa, fb = statistics.median(ta) * 1e3, statistics.median(tb) * 1e3
        print(f"  {threads} thread(s): fp32 {fa:9.1f} ms  pruned int8 {fb:9.1f} ms  speedup {fa/fb:.2f}x")
PY
