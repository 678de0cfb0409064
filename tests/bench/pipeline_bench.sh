#!/usr/bin/env bash
# Pipeline overhead: the bundled digits pipeline run by `mlopt run` against the
# same steps run as separate commands (the plan printed by --dry-run --json),
# and the time of a fully cached re-run. Prints the figures and ratios.
#   tests/bench/pipeline_bench.sh [CONFIG]    (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
MLOPT=${MLOPT:-build/apps/mlopt}
CONFIG=${1:-configs/digits-release.yaml}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { date +%s.%N; }

# 1. The pipeline, cold.
t0=$(now)
"$MLOPT" -q run "$CONFIG" --out "$WORK/pipeline" --force --json > "$WORK/run.json" || true
t1=$(now)
# 2. Fully cached re-run.
"$MLOPT" -q run "$CONFIG" --out "$WORK/pipeline" > /dev/null || true
t2=$(now)

# 3. The same steps as separate commands, each with the options the pipeline resolved.
"$MLOPT" run "$CONFIG" --out "$WORK/separate" --dry-run --json > "$WORK/plan.json"
/usr/bin/python3 - "$WORK/plan.json" "$MLOPT" > "$WORK/commands.sh" <<'PY'
import json, shlex, sys
plan, mlopt = json.load(open(sys.argv[1]))["plan"], sys.argv[2]
for step in plan["steps"]:
    for run in step["runs"]:
        args = [mlopt, "-q", "quantize" if step["type"] == "quantize-onnx" else step["type"]]
        opts = run["options"]
        positional = [k for k in ("model", "reference", "candidate", "pipeline") if k in opts and isinstance(opts[k], str)]
        for key in positional:
            args.append(opts.pop(key))
        for key, value in opts.items():
            flag = "--" + key.replace("_", "-")
            if key == "output": flag = "-o"
            if isinstance(value, bool):
                if value: args.append(flag)
            elif isinstance(value, list):
                for v in value: args += [flag, str(v)]
            elif value != "" and value is not None:
                args += [flag, str(value)]
        print(" ".join(shlex.quote(a) for a in args) + " > /dev/null || true")
PY
mkdir -p "$WORK/separate"
t3=$(now)
bash "$WORK/commands.sh"
t4=$(now)

t5=$(now); "$MLOPT" --version > /dev/null; t6=$(now)
START=$(/usr/bin/python3 -c "print($t6 - $t5)")
/usr/bin/python3 - "$t0" "$t1" "$t2" "$t3" "$t4" "$WORK/run.json" "$START" <<'PY'
import json, sys
t0, t1, t2, t3, t4 = map(float, sys.argv[1:6])
run = json.load(open(sys.argv[6]))
pipeline, cached, separate = t1 - t0, t2 - t1, t4 - t3
steps = run.get("steps_seconds", 0)
inside = run.get("seconds", 0)  # run_pipeline's own wall time, measured in the process
start = float(sys.argv[7])
print(f"pipeline (cold, --force):     {pipeline:7.2f} s wall   (steps' own work {steps:.2f} s, in-process total {inside:.2f} s)")
print(f"same steps, separate commands:{separate:7.2f} s wall   (one process start each)")
print(f"pipeline overhead beyond its steps' work: {100 * (inside - steps) / steps:+.1f} %   (target <= 5 %: plan, hashing, cache, manifest, signatures, reports)")
print(f"process start (mlopt --version):          {start:.2f} s   (LibTorch loading, paid once by any mlopt command)")
print(f"whole process vs steps' work:             {100 * (pipeline - steps) / steps:+.1f} %")
print(f"pipeline vs separate commands:            {pipeline / separate:.2f}x")
print(f"cached re-run:                {cached:7.2f} s   (target < 2 s)")
PY
