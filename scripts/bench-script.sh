#!/usr/bin/env bash
# `mlopt script` against Python's torch.jit.script on the script fixtures (not run by ctest).
# For each model file of tests/data/script (and the example models with their fixture weights): wall time of
#   A: mlopt script FILE --class C [--init ...] --weights W.pth -o out.pt
#   B: a Python process that imports the file, torch.jit.script(C(**init)), load_state_dict(torch.load(W)), save
# each a fresh process, rounds alternating A, B, A, B, ...; medians per model; ratio = A / B (target <= 0.5).
# Overall: the geometric mean of the per-model ratios, and the ratio of the summed medians. Models that
# torch.jit.script refuses (mlopt takes more Python than it) are timed for mlopt only and left out of the overall.
#   scripts/bench-script.sh [--rounds N] [build/apps/mlopt]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=5
if [ "${1:-}" = "--rounds" ]; then ROUNDS=$2; shift 2; fi
MLOPT=${1:-build/apps/mlopt}
PY=/usr/bin/python3
D=tests/data/script
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# file | class | init (key=value,...) | weights | python module (dotted, for package-relative imports) | --path
MODELS="$D/trailing_commas.py|TrailingCommas||$D/trailing_commas.pth||
$D/more_layers.py|MoreLayers||$D/more_layers.pth||
$D/style_transfer_net.py|StyleTransferNet||$D/style_transfer_net.pth||
$D/dcgan_generator.py|Generator||$D/dcgan_generator.pth||
$D/inheritance.py|WideClassifier||$D/inheritance.pth||
$D/ordered_sequential.py|NamedLayers||$D/ordered_sequential.pth||
$D/language_features.py|LangNet||$D/language_features.pth||
$D/language_audit.py|AuditNet||$D/language_audit.pth||
$D/kwargs_lambda_partial.py|Net||$D/kwargs_lambda_partial.pth||
$D/containers_dict.py|DictNet||$D/containers_dict.pth||
$D/forward_functions.py|ForwardFunctions||$D/forward_functions.pth||
$D/forward_callables.py|CallableNet||$D/forward_callables.pth||
$D/examples_style.py|MnistNet||$D/examples_style_MnistNet.pth||
$D/examples_style.py|SuperResolutionNet||$D/examples_style_SuperResolutionNet.pth||
$D/examples_style.py|Sequence||$D/examples_style_Sequence.pth||
$D/transformer_encoder.py|TransformerClassifier||$D/transformer_encoder.pth||
$D/transformer_decoder.py|Seq2Seq||$D/transformer_decoder.pth||
$D/word_language_model.py|TransformerModel||$D/word_language_model.pth||
$D/pooling_and_misc_layers.py|LayerTour||$D/pooling_and_misc_layers.pth||
$D/vae.py|VAE|hidden=16,latent=4|$D/vae.pth||
$D/multifile/net.py|SplitNet||$D/multifile.pth|multifile.net|$D/multifile_lib
examples/models/mlp.py|MLP||$D/mlp.pth||
examples/models/digits_cnn.py|DigitsCNN||$D/digits_cnn.pth||
examples/models/resnet_small.py|ResNetSmall|widths=[8, 16, 32]|$D/resnet_small_widths8-16-32.pth||
examples/models/lstm_classifier.py|LSTMClassifier||$D/lstm_classifier.pth||
examples/models/transformer.py|TinyTransformer||$D/transformer.pth||"

# B: written to a file (torch.jit.script reads the classes' source through inspect).
cat > "$WORK/jit_script.py" <<'PY'
import ast, importlib, importlib.util, os, sys, torch
path, cls, init, weights, module, extra, out = sys.argv[1:8]
kwargs = {}
for item in filter(None, init.split(",") if "[" not in init else [init]):
    key, value = item.split("=", 1)
    kwargs[key] = ast.literal_eval(value)
if module:  # a package-relative import: the package's parent (and --path) on sys.path
    root = os.path.dirname(os.path.dirname(path))
    sys.path[:0] = [root, os.path.dirname(path)] + ([extra] if extra else [])
    mod = importlib.import_module(module)
else:
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
model = getattr(mod, cls)(**kwargs)
scripted = torch.jit.script(model)
scripted.load_state_dict(torch.load(weights))
scripted.eval()
scripted.save(out)
PY

ns() { date +%s%N; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2}'; }

uptime
printf "%-44s %9s %9s %7s\n" "model" "mlopt_s" "python_s" "ratio"
SUM_A=0; SUM_B=0; LOG_SUM=0; COUNTED=0
while IFS='|' read -r file cls init weights module extra; do
  name="$(basename "$file" .py):$cls"
  args=("$MLOPT" script "$file" --class "$cls" --weights "$weights" -o "$WORK/a.pt")
  if [ -n "$init" ]; then
    if [[ "$init" == *"["* ]]; then args+=(--init "$init"); else IFS=',' read -ra kv <<< "$init"; for x in "${kv[@]}"; do args+=(--init "$x"); done; fi
  fi
  [ -n "$extra" ] && args+=(--path "$extra")
  if ! "${args[@]}" >/dev/null 2>"$WORK/err"; then
    printf "%-44s mlopt failed: %s\n" "$name" "$(head -c 200 "$WORK/err")"; continue
  fi
  python_ok=1
  "$PY" "$WORK/jit_script.py" "$file" "$cls" "$init" "$weights" "$module" "$extra" "$WORK/b.pt" >/dev/null 2>"$WORK/err" || python_ok=0
  : > "$WORK/ta"; : > "$WORK/tb"
  for _ in $(seq "$ROUNDS"); do
    t0=$(ns); "${args[@]}" >/dev/null 2>&1; t1=$(ns); echo $(( t1 - t0 )) >> "$WORK/ta"
    if [ "$python_ok" = 1 ]; then
      t0=$(ns); "$PY" "$WORK/jit_script.py" "$file" "$cls" "$init" "$weights" "$module" "$extra" "$WORK/b.pt" >/dev/null 2>&1
      t1=$(ns); echo $(( t1 - t0 )) >> "$WORK/tb"
    fi
  done
  a=$(median < "$WORK/ta" | awk '{printf "%.3f", $1 / 1e9}')
  if [ "$python_ok" = 0 ]; then
    # the message: the text after the last "...Error:" line's colon, or the line after it when that is empty
    reason=$(awk '/^[A-Za-z_.]*(Error|Exception):/ {sub(/^[^:]*: */, ""); msg = $0; grab = (msg == ""); next}
                  grab && NF {msg = $0; grab = 0} END {print msg}' "$WORK/err" | sed 's/^ *//' | cut -c1-70)
    printf "%-44s %9s %9s %7s  (torch.jit.script fails: %s)\n" "$name" "$a" "-" "-" "$reason"
    continue
  fi
  b=$(median < "$WORK/tb" | awk '{printf "%.3f", $1 / 1e9}')
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a / b}')
  printf "%-44s %9s %9s %7s\n" "$name" "$a" "$b" "${ratio}x"
  SUM_A=$(awk -v s="$SUM_A" -v a="$a" 'BEGIN {print s + a}'); SUM_B=$(awk -v s="$SUM_B" -v b="$b" 'BEGIN {print s + b}')
  LOG_SUM=$(awk -v s="$LOG_SUM" -v r="$ratio" 'BEGIN {print s + log(r)}'); COUNTED=$((COUNTED + 1))
done <<< "$MODELS"
if [ "$COUNTED" -gt 0 ]; then
  awk -v l="$LOG_SUM" -v n="$COUNTED" -v a="$SUM_A" -v b="$SUM_B" -v r="$ROUNDS" 'BEGIN {
    printf "overall (%d models, %d rounds, medians): geometric mean ratio %.3fx, summed medians %.2fs / %.2fs = %.3fx (target <= 0.5x)\n",
      n, r, exp(l / n), a, b, a / b }'
fi
uptime
