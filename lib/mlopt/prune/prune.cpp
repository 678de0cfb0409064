// `mlopt prune`: the library function. Loads the model twice (the original
// stays the reference and the fine-tuning teacher), prunes the copy, measures
// both, writes the artifact and checks it against the pruned module.
#include "mlopt/core/written_paths.h"
#include "mlopt/prune/prune.h"

#include <torch/script.h>

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/prune/artifact.h"
#include "mlopt/prune/channel_prune.h"
#include "mlopt/prune/finetune.h"
#include "mlopt/prune/layer_select.h"
#include "mlopt/prune/masks.h"
#include "mlopt/prune/measure.h"

namespace mlopt {

void check_options(const PruneOptions& o) {
  if (!(o.amount >= 0 && o.amount < 1)) fail_usage("--amount {}: expected a fraction in [0, 1)", o.amount);
  if (o.head_amount != -1 && !(o.head_amount >= 0 && o.head_amount < 1))  // -1: the default, same as --amount
    fail_usage("--head-amount {}: expected a fraction in [0, 1)", o.head_amount);
  if (o.norm != 1 && o.norm != 2) fail_usage("--norm {}: expected 1 or 2", o.norm);
  std::string ext = extension_of(o.output);
  if (ext != ".pt" && ext != ".ptl" && ext != ".onnx")
    fail_usage("-o '{}': expected an output file ending in .pt, .ptl or .onnx", o.output);
  if (!o.finetune.empty()) distill::check_train_config(o.train);
  if (o.train.batch_size < 1) fail_usage("--batch-size {}: expected at least 1", o.train.batch_size);
  if (o.inputs.empty() && (o.method == "channel" || ext == ".onnx"))
    fail_usage("--input is required for {} (shape analysis and the output check run on it)",
               o.method == "channel" ? "--method channel" : "an .onnx output");
}

namespace {


std::vector<pruning::WeightMask> masks_for(const PruneOptions& o, const std::vector<pruning::PrunableLayer>& layers) {
  if (o.method == "l1-unstructured") return pruning::l1_unstructured_masks(layers, o.amount);
  if (o.method == "global-unstructured") return pruning::global_unstructured_masks(layers, o.amount);
  return pruning::ln_structured_masks(layers, o.amount, o.norm);
}

Dataset load_data(const PruneOptions& o, const std::string& path) {
  DataOptions data = o.data;
  data.path = path;
  return load_dataset(data);
}

void run_finetune(const PruneOptions& o, const GlobalOptions& g, torch::jit::Module& work, torch::jit::Module& original,
                  const std::vector<pruning::WeightMask>& masks, PruneResult& result) {
  Dataset data = load_data(o, o.finetune);
  distill::TrainConfig config = o.train;
  config.seed = g.seed;
  // Unstructured masks are re-applied after every step; channel pruning has nothing to re-apply.
  auto reapply = [&](torch::jit::Module& m) { pruning::apply_masks(m, masks); };
  auto r = pruning::finetune(work, original, data.x_train, data.y_train, config,
                           masks.empty() ? std::function<void(torch::jit::Module&)>{} : reapply, data.x_val,
                           data.y_val);
  result.finetune_epochs = o.train.epochs;
  result.finetune_losses = r.epoch_losses;
}

void evaluate(const PruneOptions& o, torch::jit::Module& original, torch::jit::Module& work, PruneResult& result) {
  Dataset data = load_data(o, o.eval);
  // Score on the held-out split when there is one, else on everything.
  at::Tensor x = data.x_val.defined() && data.x_val.size(0) > 0 ? data.x_val : data.x;
  at::Tensor y = data.x_val.defined() && data.x_val.size(0) > 0 ? data.y_val : data.y;
  auto before = pruning::predict(original, x).argmax(-1);
  auto after = pruning::predict(work, x).argmax(-1);
  if (y.defined()) {
    result.eval_metric = "accuracy";
    result.eval_before = before.eq(y).to(at::kDouble).mean().item<double>();
    result.eval_after = after.eq(y).to(at::kDouble).mean().item<double>();
  } else {
    result.eval_metric = "agreement";
    result.eval_before = 1.0;
    result.eval_after = before.eq(after).to(at::kDouble).mean().item<double>();
  }
}

}  // namespace

PruneResult prune(const PruneOptions& o, const GlobalOptions& g) {
  check_written_paths(o);
  check_options(o);
  PruneResult result;
  result.model = o.model.path;
  result.output = o.output;
  result.method = o.method;
  result.amount = o.amount;

  auto original = load_model(o.model);
  auto work = load_model(o.model);  // a separate copy: pruned in place
  auto selected = pruning::select_layers(work, o.layers);
  auto specs = parse_input_specs(o.inputs);
  auto examples = random_inputs(specs, g.seed);
  std::vector<at::Tensor> reference;
  if (!examples.empty()) reference = with_context(fmt::format("running the model on the --input examples ({})", fmt::join(o.inputs, ", ")), [&] {
    return run_module(original, examples);
  });

  std::vector<pruning::WeightMask> masks;
  if (o.method == "channel") {
    double heads = o.head_amount < 0 ? o.amount : o.head_amount;
    auto report = pruning::prune_channels(work, examples, o.amount, o.norm, o.layers, heads);
    for (const auto& a : report.attention) {
      result.attention.push_back({a.attention, a.heads_before, a.heads_after, a.head_dim});
      if (!a.reason.empty()) result.skipped.push_back({{a.attention}, "heads: " + a.reason});
    }
    std::set<std::string> attention;  // their in-projection's channels are heads, reported above
    for (const auto& a : report.attention) attention.insert(a.attention);
    for (const auto& group : report.groups)
      if (!group.reason.empty() && group.reason != "feeds a model output" &&
          !(group.layers.size() == 1 && attention.count(group.layers[0])))
        result.skipped.push_back({group.layers, group.reason});
  } else {
    masks = masks_for(o, selected);
    pruning::apply_masks(work, masks);
  }
  if (!o.finetune.empty()) run_finetune(o, g, work, original, masks, result);

  pruning::measure_layers(original, work, o.layers, o.norm, result);
  pruning::measure_model(original, work, o.model.path, examples, reference, result);
  if (!o.eval.empty()) evaluate(o, original, work, result);
  pruning::write_artifact(work, o, specs, examples, result);
  return result;
}

}  // namespace mlopt
