#!/usr/bin/env bash
# Benchmarks `mlopt serve` on loopback with wrk (a second process):
#   1. the digits classifier at 64 connections: req/s and p99;
#   2. a ResNet-18 (torchvision, made here) at 16 connections, served with
#      batching and with --max-batch 1, against `mlopt profile --batch` offline;
#   3. overload: 4x the connections with a bounded queue: 503s, p99, memory.
# Usage: scripts/bench-serve.sh [SECONDS]   (MLOPT=path/to/mlopt)
set -euo pipefail
cd "$(dirname "$0")/.."
MLOPT=${MLOPT:-$PWD/build/apps/mlopt}
SECS=${1:-10}
WORK=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT

start() {  # start MODEL ARGS...: serves on a free port, sets PORT and SERVER
  "$MLOPT" serve "$@" --port 0 -q 2>"$WORK/serve.log" &
  SERVER=$!
  PORT=""
  for _ in $(seq 600); do
    PORT=$(grep -o 'on http://127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1 | sed 's/.*://' || true)
    [ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "server did not become ready" >&2; cat "$WORK/serve.log" >&2; exit 1
}
stop() { kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=""; }
lua() {  # lua BODYFILE [HEADER_LEN]: a wrk script posting that body
  local header=""
  [ -n "${2:-}" ] && header="wrk.headers[\"Inference-Header-Content-Length\"] = \"$2\""
  cat > "$WORK/post.lua" <<LUA
local f = io.open("$1", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
$header
LUA
}
run_wrk() {  # run_wrk CONNECTIONS PATH: prints "req/s p50 p99 non2xx"
  wrk -t2 -c"$1" -d"${SECS}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT$2" > "$WORK/wrk.txt"
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
  bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
  echo "$rps req/s, p50 $p50, p99 $p99, non-2xx ${bad:-0}"
}
rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status"; }

echo "== digits classifier (DigitsCNN, 1x1x8x8), 64 connections, ${SECS}s"
"$MLOPT" script examples/models/digits_cnn.py --class DigitsCNN --input x:batch=1x1x8x8 -o "$WORK/digits.pt" -q
python3 -c 'import json; print(json.dumps({"inputs":[{"name":"x","shape":[1,1,8,8],"datatype":"FP32","data":[0.25]*64}]}))' > "$WORK/digits.json"
lua "$WORK/digits.json"
start "$WORK/digits.pt" --max-batch 32 --max-delay-ms 2 --queue 256
echo "batching (max 32):   $(run_wrk 64 /v2/models/digits/infer)   peak RSS $(rss_mb) MB"
stop
start "$WORK/digits.pt" --max-batch 1 --queue 256
echo "--max-batch 1:       $(run_wrk 64 /v2/models/digits/infer)"
stop
echo "== overload: 256 connections (4x), --queue 32"
start "$WORK/digits.pt" --max-batch 32 --max-delay-ms 2 --queue 32
echo "unloaded (8 conns):  $(run_wrk 8 /v2/models/digits/infer)"
echo "4x (256 conns):      $(run_wrk 256 /v2/models/digits/infer)   peak RSS $(rss_mb) MB"
curl -s "http://127.0.0.1:$PORT/metrics" | grep '^mlopt_serve_requests_total'
stop

echo "== ResNet-18 (torchvision, 1x3x224x224), 16 connections, binary tensors"
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
lua "$WORK/resnet.bin" "$(cat "$WORK/resnet.len")"
for B in 8; do
  offline=$("$MLOPT" profile "$WORK/resnet18.pt" --batch $B --min-time 5 --json -q | python3 -c '
import json, sys
def find(o):  # the first "throughput" figure: the top-level one of the model
    if isinstance(o, dict):
        if isinstance(o.get("throughput"), (int, float)): return o["throughput"]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None: return r
print("%.1f" % find(json.load(sys.stdin)))')
  echo "offline (profile --batch $B): $offline samples/s"
  start "$WORK/resnet18.pt" --max-batch $B --max-delay-ms 20 --queue 64
  echo "served, --max-batch $B: $(run_wrk 16 /v2/models/resnet18/infer)"
  stop
done
start "$WORK/resnet18.pt" --max-batch 1 --queue 64
echo "served, --max-batch 1: $(run_wrk 16 /v2/models/resnet18/infer)"
stop
