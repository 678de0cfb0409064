#!/usr/bin/env bash
# Benchmarks `mlopt serve` on loopback with wrk (a second process):
#   1. the digits classifier at 64 connections (closed loop, wrk --latency):
#      req/s and p99, with batching and with --max-batch 1;
#   2. digits flooded by 256 closed-loop connections that retry at once:
#      requests answered 200 and 503, latency over both, peak RSS;
#   3. a ResNet-18 (torchvision, made here) at 16 connections, served with
#      batching and with --max-batch 1, against `mlopt profile --batch B`
#      offline, B being the mean batch the server formed (from /metrics), in
#      alternating rounds (ROUNDS=3); offline is shown for a default process
#      and for the allocator settings serve applies to itself (the fair one);
#   4. overload on the ResNet-18 (where the model, not HTTP, is the limit):
#      an open-loop client offering 0.5x, then 4x the rate the server sustains.
# ResNet-18 runs with one intra-op thread, in the server and in `profile`
# alike: on a shared 2-core machine a 2-thread OpenMP team is erratic (3-20x
# slower when other processes hold the cores), which hides what is measured.
# Usage: scripts/bench-serve.sh [SECONDS]   (MLOPT=path/to/mlopt;
#        PARTS="digits flood resnet overload" selects the parts, default all)
set -euo pipefail
cd "$(dirname "$0")/.."
MLOPT=${MLOPT:-$PWD/build/apps/mlopt}
SECS=${1:-10}
PARTS=${PARTS:-digits flood resnet overload}
part() { [[ " $PARTS " == *" $1 "* ]]; }
WORK=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT

start() {  # start MODEL ARGS...: serves on a free port, sets PORT and SERVER
  "$MLOPT" serve "$@" --port 0 -q 2>"$WORK/serve.log" &
  SERVER=$!
  PORT=""
  for _ in $(seq 1200); do
    PORT=$(grep -o 'on http://127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1 | sed 's/.*://' || true)
    [ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "server did not become ready" >&2; cat "$WORK/serve.log" >&2; exit 1
}
stop() { kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=""; }
metric() {  # metric NAME: its value summed over label sets, from /metrics
  curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 {s += $2} END {print s + 0}'
}
rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status"; }

# The request body for wrk: BODY=FILE, HEADER_LEN=N for the binary extension.
cat > "$WORK/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/octet-stream"
local n = os.getenv("HEADER_LEN")
if n and n ~= "" then wrk.headers["Inference-Header-Content-Length"] = n end
LUA
# The same body, with client-side latency split by HTTP status, for one
# connection per wrk thread (-t N -c N: request() and response() then alternate
# per thread). RATE_PER_CONN=R: open loop, each connection sends on a fixed
# schedule of R requests/s (the offered rate does not drop when the server
# slows down, as it does with closed-loop clients); unset: closed loop.
cat > "$WORK/split.lua" <<'LUA'
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec* t);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local f = io.open(os.getenv("BODY"), "rb"); local body = f:read("*a"); f:close()
local headers = {["Content-Type"] = "application/octet-stream"}
local n = os.getenv("HEADER_LEN")
if n and n ~= "" then headers["Inference-Header-Content-Length"] = n end

local interval = tonumber(os.getenv("RATE_PER_CONN") or "")
interval = interval and 1000 / interval
local next_at
if interval then
  function delay()
    local now = now_ms()
    next_at = next_at or now + math.random() * interval  -- spread the connections
    local wait = next_at - now
    next_at = next_at + interval
    if wait < -interval then next_at = now + interval end  -- far behind: no burst to catch up
    return math.max(0, math.floor(wait))
  end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end
local req, sent
lat = {}  -- flat (wrk copies only flat tables between threads): status * 1e7 + microseconds
function init()
  math.randomseed(math.floor(now_ms() * 1000) % 2147483647)
  req = wrk.format("POST", nil, headers, body)
end
function request() sent = now_ms(); return req end
function response(status)
  lat[#lat + 1] = status * 1e7 + math.min(9999999, math.floor((now_ms() - sent) * 1000))
end
function done(summary)
  local by = {}
  for _, t in ipairs(threads) do
    for _, x in ipairs(t:get("lat")) do
      local k = math.floor(x / 1e7)
      by[k] = by[k] or {}
      table.insert(by[k], (x % 1e7) / 1000)
    end
  end
  for k, v in pairs(by) do
    table.sort(v)
    local function pct(p) return v[math.max(1, math.ceil(#v * p))] end
    io.write(string.format("SPLIT %d %d %.1f %.1f %.1f\n", k, #v, pct(0.5), pct(0.99), v[#v]))
  end
  io.write(string.format("SPLIT_SECONDS %.2f\n", summary.duration / 1e6))
end
LUA

run_wrk() {  # run_wrk CONNECTIONS PATH: closed loop; prints "req/s p50 p99 non2xx"
  wrk -t2 -c"$1" -d"${SECS}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT$2" > "$WORK/wrk.txt"
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
  bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
  echo "$rps req/s, p50 $p50, p99 $p99, non-2xx ${bad:-0}"
}
split_wrk() {  # split_wrk CONNECTIONS PATH [RATE_PER_CONN [SECONDS]]: per status "n (x/s), p50, p99, max"
  RATE_PER_CONN=${3:-} wrk -t"$1" -c"$1" -d"${4:-$SECS}s" -s "$WORK/split.lua" "http://127.0.0.1:$PORT$2" > "$WORK/split.txt"
  awk '/^SPLIT_SECONDS/ {s = $2} /^SPLIT / {line[$2] = $0} END {
         for (k in line) { split(line[k], f, " ");
           printf "%s: %d (%.1f/s), p50 %s ms, p99 %s ms, max %s ms; ", k, f[3], f[3] / s, f[4], f[5], f[6] } }' \
    "$WORK/split.txt"
}
p99_of() {  # p99_of STATUS: the p99 in ms of that status in the last split_wrk
  awk -v k="$1" '$1 == "SPLIT" && $2 == k {print $5}' "$WORK/split.txt"
}
rate_of() {  # rate_of STATUS: responses with that status per second in the last split_wrk
  awk -v k="$1" '/^SPLIT_SECONDS/ {s = $2} $1 == "SPLIT" && $2 == k {n = $3} END {printf "%.2f", (n + 0) / s}' "$WORK/split.txt"
}
ratio() { python3 -c "import sys; a, b = float(sys.argv[1] or 0), float(sys.argv[2] or 0); print('%.2f' % (a / b if b else float('nan')))" "$1" "$2"; }

"$MLOPT" script examples/models/digits_cnn.py --class DigitsCNN --input x:batch=1x1x8x8 -o "$WORK/digits.pt" -q
python3 -c 'import json; print(json.dumps({"inputs":[{"name":"x","shape":[1,1,8,8],"datatype":"FP32","data":[0.25]*64}]}))' > "$WORK/digits.json"
export BODY="$WORK/digits.json" HEADER_LEN=""
if part digits; then
echo "== digits classifier (DigitsCNN, 1x1x8x8), 64 connections, ${SECS}s"
start "$WORK/digits.pt" --max-batch 32 --max-delay-ms 2 --queue 256
echo "batching (max 32):   $(run_wrk 64 /v2/models/digits/infer)   peak RSS $(rss_mb) MB"
# The floor on this machine now: no model, no body, the same 64 connections.
echo "GET /v2/health/live: $(wrk -t2 -c64 -d"${SECS}s" --latency "http://127.0.0.1:$PORT/v2/health/live" > "$WORK/wrk.txt";
  awk '/Requests\/sec/ {r = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2} END {print r " req/s, p50 " p50 ", p99 " p99}' "$WORK/wrk.txt")"
stop
start "$WORK/digits.pt" --max-batch 1 --queue 256
echo "--max-batch 1:       $(run_wrk 64 /v2/models/digits/infer)"
stop
fi

if part flood; then
# Closed loop: a refused client retries at once, far beyond 4x the rate; wrk's
# two threads and the server share the 2 cores. Latencies are over both
# statuses (the admitted ones' p99 is in the overload part).
echo "== digits flooded: 256 closed-loop connections retrying at once, --queue 32"
start "$WORK/digits.pt" --max-batch 32 --max-delay-ms 2 --queue 32
echo "256 connections:     $(run_wrk 256 /v2/models/digits/infer)   peak RSS $(rss_mb) MB"
echo "                     answered 200: $(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^mlopt_serve_requests_total.*code="200"/ {print $2}')," \
     "503: $(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^mlopt_serve_requests_total.*code="503"/ {print $2}')"
stop
fi

part resnet || part overload || exit 0
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys, torch, torchvision
out = sys.argv[1]
model = torchvision.models.resnet18().eval()
traced = torch.jit.trace(model, torch.zeros(1, 3, 224, 224))
torch.jit.save(traced, f"{out}/resnet18.pt", _extra_files={"mlopt.json": json.dumps({"inputs": ["x:batch=1x3x224x224:float32"]})})
header = json.dumps({"inputs": [{"name": "x", "shape": [1, 3, 224, 224], "datatype": "FP32",
                                 "parameters": {"binary_data_size": 3 * 224 * 224 * 4}}]}).encode()
with open(f"{out}/resnet.bin", "wb") as f:
    f.write(header + torch.rand(1, 3, 224, 224).numpy().tobytes())
open(f"{out}/resnet.len", "w").write(str(len(header)))
PY
export BODY="$WORK/resnet.bin" HEADER_LEN
HEADER_LEN=$(cat "$WORK/resnet.len")
RESNET=("$WORK/resnet18.pt" --threads 1)
offline() {  # offline B: `mlopt profile --batch B` samples/s, "DEFAULT TUNED": a default process, and one
  # started with the allocator settings `serve` applies to itself (profile's tuned figure) -- the fair baseline
  "$MLOPT" profile "$WORK/resnet18.pt" --batch "$1" --threads 1 --min-time "$SECS" --json -q |
    python3 -c 'import json, sys; d = json.load(sys.stdin); b = d["batch"]
t = d.get("tuned_allocator", {}).get("latency_ms", {}).get("mean", 0)
print("%.2f %.2f" % (d["throughput"], 1000.0 * b / t if t else 0))'
}
sustained() {  # sustained MAX_BATCH: req/s of 16 closed-loop connections; sets served, served_rps, batch, model_rps
  start "${RESNET[@]}" --max-batch "$1" --max-delay-ms 20 --queue 64
  served=$(run_wrk 16 /v2/models/resnet18/infer)
  served_rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  batch=$(python3 -c "print(max(1, round($(metric mlopt_serve_batch_size_sum) / max(1, $(metric mlopt_serve_batch_size_count)))))")
  # the server's own model time: rows per second of inference, beside the served rate
  model_rps=$(python3 -c "print('%.2f' % ($(metric mlopt_serve_batch_size_sum) / max(1e-9, $(metric mlopt_serve_inference_duration_seconds_sum))))")
  stop
}
median() { python3 -c "import statistics, sys; print('%.2f' % statistics.median(float(v) for v in sys.argv[1:]))" "$@"; }
if part resnet; then
echo "== ResNet-18 (torchvision, 1x3x224x224), 16 connections, binary tensors, --threads 1"
# Rounds alternate served (--max-batch 8), offline at the batch the server
# formed, and served with --max-batch 1, so that all three see the same machine;
# the ratios are per round, then their median.
ROUNDS=${ROUNDS:-3}
r_default=() r_tuned=() r_batching=() r_model=()
for round in $(seq "$ROUNDS"); do
  sustained 8; s=$served_rps; b=$batch; m=$model_rps
  echo "round $round: served, --max-batch 8: $served (mean batch $b; the model's own time: $m rows/s)"
  read -r off_default off_tuned <<< "$(offline "$b")"
  echo "round $round: offline, profile --batch $b --threads 1: $off_default samples/s (default process)," \
       "$off_tuned (tuned allocator, as serve runs)"
  sustained 1; one=$served_rps
  echo "round $round: served, --max-batch 1: $served"
  r_default+=("$(ratio "$s" "$off_default")") r_tuned+=("$(ratio "$s" "$off_tuned")")
  r_batching+=("$(ratio "$s" "$one")") r_model+=("$(ratio "$s" "$m")")
done
echo "served / offline (tuned allocator, the same settings as serve): median $(median "${r_tuned[@]}") of ${r_tuned[*]}"
echo "served / offline (default process):                           median $(median "${r_default[@]}") of ${r_default[*]}"
echo "served / the server's own model time:                          median $(median "${r_model[@]}") of ${r_model[*]}"
echo "batching (--max-batch 8) / --max-batch 1:                      median $(median "${r_batching[@]}") of ${r_batching[*]}"
fi

if part overload; then
# Open loop at 0.5x and 4x the rate the server sustains, with enough connections
# that one waiting for its answer does not hold the offered rate back; 3x the
# time, for enough admitted requests to take a p99 of. --queue 4: at most one
# batch waits. The sustainable rate: what it admits when offered far more
# (128 req/s), measured with the same client, as the model's speed on a shared
# machine moves from one minute to the next.
echo "== overload: ResNet-18, open loop, --max-batch 4 --queue 4, $((3 * SECS))s each"
start "${RESNET[@]}" --max-batch 4 --max-delay-ms 20 --queue 4
split_wrk 128 /v2/models/resnet18/infer 1 > /dev/null
rate=$(rate_of 200)
echo "sustainable: $rate req/s (admitted of 128 req/s offered)"
echo "0.5x ($(python3 -c "print('%.1f' % ($rate * 0.5))") req/s offered, 16 conns):" \
     "$(split_wrk 16 /v2/models/resnet18/infer "$(python3 -c "print($rate * 0.5 / 16)")" $((3 * SECS)))" \
     "peak RSS $(rss_mb) MB"
unloaded=$(p99_of 200)
echo "4x ($(python3 -c "print('%.1f' % ($rate * 4))") req/s offered, 128 conns):" \
     "$(split_wrk 128 /v2/models/resnet18/infer "$(python3 -c "print($rate * 4 / 128)")" $((3 * SECS)))" \
     "peak RSS $(rss_mb) MB"
echo "admitted p99 at 4x / p99 at 0.5x: $(ratio "$(p99_of 200)" "$unloaded")"
stop
fi
