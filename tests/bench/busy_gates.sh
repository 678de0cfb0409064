#!/usr/bin/env bash
# Do the bundled pipeline's gates hold on a busy machine? Runs a bundled
# pipeline (configs/digits-release.yaml) N times while a competing load keeps
# the cores busy, each run into a fresh --out and then once more from its
# cache (a cached latency is measured again, not served as a fact), and
# counts the outcomes by exit code (docs/exit-codes.md):
#   0 pass, 3 fail (names the gate), 4 inconclusive (a noisy latency), other: error.
# A flip is a latency gate that fails (the load, not the model, decides it) or a
# run whose failed gates differ from the first run's; a gate that fails with the
# same figure every run fails for a real reason (e.g. DIGITS_EPOCHS=1 trains too
# little for the accuracy gates). Target (issue 18): 0 flips, 0 errors. Not run by ctest.
#   tests/bench/busy_gates.sh [build dir]
# Environment: N (runs, 2), LOAD (stress-ng: `stress-ng --cpu $(nproc)`, the
# default when installed, `apt-get install stress-ng`; mlopt: a second `mlopt run`
# of the same pipeline in a loop; none), CONFIG (configs/digits-release.yaml),
# DIGITS_EPOCHS (the config's 6 by default; fewer trains faster, and the accuracy gates then fail every run).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
MLOPT=$PWD/$BUILD/apps/mlopt
N=${N:-2}
CONFIG=${CONFIG:-configs/digits-release.yaml}
export DIGITS_EPOCHS=${DIGITS_EPOCHS:-6}
if [ -z "${LOAD:-}" ]; then
  if command -v stress-ng >/dev/null; then LOAD=stress-ng; else LOAD=mlopt; fi
fi
WORK=$(mktemp -d)
LOAD_PID=""
stop_load() {
  if [ -n "$LOAD_PID" ]; then
    kill -- -"$LOAD_PID" 2>/dev/null || kill "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap stop_load EXIT

# The competing load, in its own process group so that it stops with this script.
case "$LOAD" in
  stress-ng) set -m; stress-ng --cpu "$(nproc)" --quiet >/dev/null 2>&1 & LOAD_PID=$!; set +m ;;
  mlopt)
    set -m
    ( while true; do "$MLOPT" run "$CONFIG" --out "$WORK/load" --force >/dev/null 2>&1 || true; done ) &
    LOAD_PID=$!
    set +m ;;
  none) ;;
  *) echo "LOAD=$LOAD: expected stress-ng, mlopt or none" >&2; exit 2 ;;
esac
echo "load: $LOAD; pipeline: $CONFIG (DIGITS_EPOCHS=$DIGITS_EPOCHS); $N runs, each fresh then cached; $(nproc) cores"
sleep 2

pass=0 fail=0 inconclusive=0 error=0 flips=0 first_failed="" 
printf "%-4s %-7s %5s %-13s %9s  %s\n" run kind exit outcome seconds "latency gates (figure) / failed gates"
summarize() {  # json file -> latency gates with their figures, and any failed gate
  /usr/bin/python3 - "$1" <<'PYEOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception:
    print("(no JSON result)")
    sys.exit(0)
parts = []
for g in j.get("gates", []):
    name = g.get("gate", "")
    if "latency" in name or "speedup" in name or "slower" in name or "throughput" in name:
        state = "inconclusive" if g.get("inconclusive") else ("pass" if g.get("passed") else "FAIL")
        parts.append(f"{name} = {g.get('figure')} [{state}]")
    elif not g.get("passed"):
        parts.append(f"FAILED {name} = {g.get('figure')}")
print("; ".join(parts) if parts else "(no latency gate)")
PYEOF
}
failed_gates() {  # json file -> "latency" when a latency gate failed, then the failed gates with their figures
  /usr/bin/python3 - "$1" <<'PYEOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
latency = ("latency", "speedup", "slower", "throughput")
failed = [g for g in j.get("gates", []) if not g.get("passed") and not g.get("inconclusive")]
if any(any(k in g.get("gate", "") for k in latency) for g in failed):
    print("latency")
print("|".join(f"{g.get('gate')}={g.get('figure')}" for g in failed))
PYEOF
}
for i in $(seq 1 "$N"); do
  for kind in fresh cached; do
    start=$(date +%s.%N)
    set +e
    "$MLOPT" run "$CONFIG" --out "$WORK/run-$i" --json >"$WORK/run-$i.$kind.json" 2>"$WORK/run-$i.$kind.err"
    code=$?
    set -e
    seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    case $code in
      0) outcome=pass; pass=$((pass + 1)) ;;
      3) outcome=FAIL; fail=$((fail + 1)) ;;
      4) outcome=inconclusive; inconclusive=$((inconclusive + 1)) ;;
      *) outcome=error; error=$((error + 1)); tail -3 "$WORK/run-$i.$kind.err" >&2 ;;
    esac
    printf "%-4s %-7s %5s %-13s %9.1f  %s\n" "$i" "$kind" "$code" "$outcome" "$seconds" \
      "$(summarize "$WORK/run-$i.$kind.json")"
    failed=$(failed_gates "$WORK/run-$i.$kind.json")
    if [ "$i" = 1 ] && [ "$kind" = fresh ]; then first_failed=$failed; fi
    if [[ "$failed" == latency* ]] || [ "$failed" != "$first_failed" ]; then
      flips=$((flips + 1))
      echo "     ^ flip: a latency gate failed, or other gates than the first run's" >&2
    fi
  done
done
echo "runs: $((2 * N)); pass $pass, fail $fail, inconclusive $inconclusive, error $error; flips $flips" \
  "(target: flips 0, errors 0)"
[ "$flips" -eq 0 ] && [ "$error" -eq 0 ]
