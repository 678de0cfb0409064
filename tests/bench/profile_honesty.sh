#!/usr/bin/env bash
# Are `mlopt profile`'s figures honest? Times the same TorchScript module two
# ways, side by side, at the same thread count:
#   1. mlopt profile (its p50),
#   2. an independent timing: Debian's python3-torch, torch.jit.load, one
#      time.perf_counter() pair per call, median of the calls;
# and prints their ratio (target: within 10%) and the harness's own overhead
# (share of the measuring loop spent outside the timed calls; target < 1% for
# models of 1 ms or more). Not run by ctest.
#   tests/bench/profile_honesty.sh [build dir] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
THREADS=${2:-1}
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Two models: ~1-3 ms and ~10 ms on one core.
$PY - "$WORK" <<'PYEOF'
import sys, torch, torch.nn as nn
torch.manual_seed(0)
def block(c):
    return nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
small = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), block(16), block(16), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)).eval()
large = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), *[block(32) for _ in range(4)], nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)).eval()
torch.jit.save(torch.jit.script(small), sys.argv[1] + "/small.pt")
torch.jit.save(torch.jit.script(large), sys.argv[1] + "/large.pt")
PYEOF

# Both sides time the same steady state: mlopt keeps freed memory in its heap
# (lib/mlopt/core/allocator_tuning.h); the Python process gets the same glibc
# settings, or its heap returns the activations to the OS after every call and
# page-faults them back in (measured: p50 up to 1.6x slower on the large model).
STEADY_HEAP=glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=67108864:glibc.malloc.mmap_threshold=67108864
independent_p50() {  # model, input shape
  GLIBC_TUNABLES=$STEADY_HEAP $PY - "$1" "$2" "$THREADS" <<'PYEOF'
import sys, time, statistics, torch
path, shape, threads = sys.argv[1], [int(v) for v in sys.argv[2].split("x")], int(sys.argv[3])
torch.set_num_threads(threads)
m = torch.jit.load(path).eval()
x = torch.randn(*shape)
with torch.no_grad():
    for _ in range(20):
        m(x)
    times = []
    end = time.perf_counter() + 3.0
    while time.perf_counter() < end or len(times) < 20:
        t0 = time.perf_counter()
        m(x)
        times.append((time.perf_counter() - t0) * 1000)
print(f"{statistics.median(times):.4f}")
PYEOF
}

# Rounds alternate the two timings so that a change in machine load hits both.
ROUNDS=${ROUNDS:-3}
printf "%-8s %-12s %11s %11s %7s %10s %8s   (median of %s alternating rounds)\n" model input "mlopt p50" \
  "python p50" ratio overhead cv "$ROUNDS"
for model in small large; do
  shape=1x3x64x64
  ours=() theirs=() overheads=() cvs=()
  for _ in $(seq "$ROUNDS"); do
    json=$("$BUILD"/apps/mlopt profile "$WORK/$model.pt" --input "x:$shape" --threads "$THREADS" --warmup 20 \
           --min-time 3 --json -q 2>/dev/null)
    read -r p50 overhead cv < <(printf '%s' "$json" | $PY -c \
      'import json,sys; j=json.load(sys.stdin)["latency_ms"]; print(j["p50"], j["harness_overhead"], j["cv"])')
    ours+=("$p50") overheads+=("$overhead") cvs+=("$cv")
    theirs+=("$(independent_p50 "$WORK/$model.pt" "$shape")")
  done
  $PY - "$model" "$shape" "${ours[*]}" "${theirs[*]}" "${overheads[*]}" "${cvs[*]}" <<'PYEOF'
import statistics, sys
model, shape, ours, theirs, overheads, cvs = sys.argv[1], sys.argv[2], *[list(map(float, a.split())) for a in sys.argv[3:]]
m, p = statistics.median(ours), statistics.median(theirs)
print(f"{model:<8} {shape:<12} {m:9.3f}ms {p:9.3f}ms {m / p:7.3f} {100 * max(overheads):9.4f}% {100 * statistics.median(cvs):7.2f}%")
PYEOF
done
