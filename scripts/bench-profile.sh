#!/usr/bin/env bash
# Does `mlopt profile` report what a user's own process sees? For four
# TorchScript models, 1 thread by default, rounds alternate (so a change in
# machine load hits both sides):
#   1. mlopt profile: its default figure (p50, glibc malloc defaults) and the
#      tuned figure it recommends (a second process with MALLOC_* settings);
#   2. an independent timing in a default PyTorch process: Debian's
#      python3-torch, torch.jit.load, one perf_counter() pair per call, median;
#   3. the same in a plain LibTorch C++ process (tests/bench/time_archive.cpp,
#      built here with g++, nothing of mlopt linked): how a C++ deployment
#      runs the archive.
# Prints the medians over rounds and the mlopt-default / python and
# mlopt-default / C++ ratios (target: within +-10%, issue 18). Not run by ctest.
#   scripts/bench-profile.sh [build dir] [threads]     (ROUNDS=3 MIN_TIME=2;
#   MODELS="cnn:1x3x64x64 ..." times a subset)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-1}
ROUNDS=${ROUNDS:-3}
MIN_TIME=${MIN_TIME:-2}
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Both sides start with glibc's defaults.
unset MALLOC_TRIM_THRESHOLD_ MALLOC_TOP_PAD_ MALLOC_MMAP_THRESHOLD_ GLIBC_TUNABLES

$PY - "$WORK" <<'PYEOF'
import sys, torch, torch.nn as nn, torchvision
torch.manual_seed(0)
def block(c):
    return nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
cnn = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), *[block(32) for _ in range(4)],
                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)).eval()
torch.jit.save(torch.jit.script(cnn), sys.argv[1] + "/cnn.pt")
torch.jit.save(torch.jit.script(torchvision.models.mobilenet_v2().eval()), sys.argv[1] + "/mobilenet_v2.pt")
torch.jit.save(torch.jit.script(torchvision.models.resnet18().eval()), sys.argv[1] + "/resnet18.pt")
torch.jit.save(torch.jit.script(torchvision.models.squeezenet1_1().eval()), sys.argv[1] + "/squeezenet1_1.pt")
PYEOF
g++ -O2 -std=c++17 -o "$WORK/time_archive" tests/bench/time_archive.cpp -I/usr/include/torch/csrc/api/include \
  -ltorch -ltorch_cpu -lc10

python_p50() {  # model, input shape
  $PY - "$1" "$2" "$THREADS" "$MIN_TIME" <<'PYEOF'
import sys, time, statistics, torch
path, shape, threads, min_time = sys.argv[1], [int(v) for v in sys.argv[2].split("x")], int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(threads)
m = torch.jit.load(path).eval()
x = torch.randn(*shape)
with torch.no_grad():
    for _ in range(10):
        m(x)
    times = []
    end = time.perf_counter() + min_time
    while time.perf_counter() < end or len(times) < 5:
        t0 = time.perf_counter()
        m(x)
        times.append((time.perf_counter() - t0) * 1000)
print(f"{statistics.median(times):.4f}")
PYEOF
}

printf "%-14s %-12s %12s %12s %12s %12s %8s %8s %8s   (medians of %s alternating rounds, %s thread(s))\n" model \
  input "mlopt p50" "python p50" "C++ p50" "tuned p50" "/python" "/C++" "tuned x" "$ROUNDS" "$THREADS"
for spec in ${MODELS:-cnn:1x3x64x64 mobilenet_v2:1x3x224x224 resnet18:1x3x224x224 squeezenet1_1:1x3x224x224}; do
  model=${spec%%:*} shape=${spec#*:}
  ours=() theirs=() tuned=() cpp=()
  for _ in $(seq "$ROUNDS"); do
    json=$("$BUILD"/apps/mlopt profile "$WORK/$model.pt" --input "x:$shape" --threads "$THREADS" --warmup 10 \
           --min-time "$MIN_TIME" --json -q 2>/dev/null)
    read -r p50 tp50 < <(printf '%s' "$json" | $PY -c \
      'import json,sys; j=json.load(sys.stdin); t=j["tuned_allocator"]; print(j["latency_ms"]["p50"], t["latency_ms"]["p50"] if t else "nan")')
    ours+=("$p50") tuned+=("$tp50")
    theirs+=("$(python_p50 "$WORK/$model.pt" "$shape")")
    cpp+=("$("$WORK/time_archive" "$WORK/$model.pt" "${shape//x/,}" "$THREADS" "$MIN_TIME")")
  done
  $PY - "$model" "$shape" "${ours[*]}" "${theirs[*]}" "${cpp[*]}" "${tuned[*]}" <<'PYEOF'
import statistics, sys
model, shape, ours, theirs, cpp, tuned = sys.argv[1], sys.argv[2], *[list(map(float, a.split())) for a in sys.argv[3:]]
m, p, c, t = (statistics.median(v) for v in (ours, theirs, cpp, tuned))
rounds = lambda v: ' '.join(f'{x:.2f}' for x in v)
print(f"{model:<14} {shape:<12} {m:10.3f}ms {p:10.3f}ms {c:10.3f}ms {t:10.3f}ms {m / p:8.3f} {m / c:8.3f} {m / t:7.2f}x"
      f"   rounds: mlopt {rounds(ours)} | python {rounds(theirs)} | C++ {rounds(cpp)}")
PYEOF
done
