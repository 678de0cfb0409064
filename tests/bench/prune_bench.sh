#!/usr/bin/env bash
# Benchmark of `mlopt prune` (not run by ctest). Prints, side by side in one run:
#  - channel pruning at A=0.5 of a resnet18-shaped residual CNN and a mobilenet_v2-shaped CNN
#    (224x224; resnet18 with 1000 classes, mobilenet_v2 with a 100-class head -- with 1000 classes its
#    classifier alone caps the parameter ratio near 2.9x, see make_prune_fixtures.py; made by
#    tests/fixtures/make_prune_fixtures.py --large into $WORK):
#    parameter ratio and latency ratio (TorchScript, batch 1, median of interleaved runs);
#  - the digits CNN pruned by channel at A=0.5 and fine-tuned: top-1 before/after.
# Usage: tests/bench/prune_bench.sh [build-dir]   (THREADS=N to pin threads, default 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
MLOPT=$BUILD/apps/mlopt
THREADS=${THREADS:-1}
WORK=${WORK:-/tmp/mlopt_prune_bench}
mkdir -p "$WORK"
[ -f "$WORK/prune_bench_resnet18.pt" ] && [ -f "$WORK/.heads100" ] || /usr/bin/python3 tests/fixtures/make_prune_fixtures.py --large --out "$WORK" >&2
touch "$WORK/.heads100"

for name in resnet18 mobilenet_v2; do
  "$MLOPT" prune "$WORK/prune_bench_$name.pt" --method channel --amount 0.5 --input x:1x3x224x224 \
    --threads "$THREADS" -o "$WORK/pruned_$name.pt" --json > "$WORK/report_$name.json"
done

# Latency of both artifacts measured side by side (interleaved) in one process.
/usr/bin/python3 - "$WORK" "$THREADS" <<'PY'
import json, statistics, sys, time
import torch
work, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)
x = torch.randn(1, 3, 224, 224)
print(f"{'model':<14} {'params before':>14} {'params after':>13} {'ratio':>6} {'GFLOPs before':>14} {'after':>7} {'ratio':>6} {'ms before':>10} {'ms after':>9} {'ratio':>6}")
for name in ["resnet18", "mobilenet_v2"]:
    rep = json.load(open(f"{work}/report_{name}.json"))
    a = torch.jit.load(f"{work}/prune_bench_{name}.pt").eval()
    b = torch.jit.load(f"{work}/pruned_{name}.pt").eval()
    ta, tb = [], []
    with torch.no_grad():
        assert a(x).shape == b(x).shape
        for _ in range(3):
            a(x); b(x)
        for _ in range(15):
            t = time.perf_counter(); a(x); ta.append(time.perf_counter() - t)
            t = time.perf_counter(); b(x); tb.append(time.perf_counter() - t)
    ma, mb = statistics.median(ta) * 1e3, statistics.median(tb) * 1e3
    t = rep["totals"]
    fb, fa = t['flops_before'] / 1e9, t['flops_after'] / 1e9
    print(f"{name:<14} {t['params_before']:>14} {t['params_after']:>13} {t['param_ratio']:>6.2f} {fb:>14.3f} {fa:>7.3f} {fb / fa:>6.2f} {ma:>10.2f} {mb:>9.2f} {ma / mb:>6.2f}")
PY

"$MLOPT" prune tests/data/prune/digits_cnn.pt --method channel --amount 0.5 --input x:1x1x8x8 \
  --finetune tests/data/digits.csv.gz --eval tests/data/digits.csv.gz --reshape 1x8x8 --scale 0.0625 \
  --epochs 6 --lr 0.003 --threads "$THREADS" -o "$WORK/digits_pruned.pt" --json > "$WORK/report_digits.json"
/usr/bin/python3 -c "
import json; r = json.load(open('$WORK/report_digits.json')); e = r['eval']; t = r['totals']
print(f\"digits_cnn channel 0.5 + finetune: top-1 {100*e['before']:.2f}% -> {100*e['after']:.2f}% \"
      f\"({100*(e['after']-e['before']):+.2f} points), params {t['params_before']} -> {t['params_after']}\")"
