#include "mlopt/prune/measure.h"

#include <sstream>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/prune/layer_select.h"
#include "mlopt/profile/flops.h"
#include "mlopt/profile/ab_timing.h"
#include "mlopt/profile/latency.h"

namespace mlopt::pruning {

namespace {

std::string parameter_kind(const torch::jit::Module& m, const at::Tensor& w) {
  std::string type = m.type()->name() ? m.type()->name()->name() : "";
  if (type.find("Norm") != std::string::npos || w.dim() == 1) return "norm";
  if (type.find("Conv") != std::string::npos || w.dim() >= 3) return "conv";
  return "linear";
}

double ln_norm(const at::Tensor& t, int p) { return t.to(at::kDouble).norm(p).item<double>(); }

}  // namespace

int64_t nonzero_parameters(const torch::jit::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.count_nonzero().item<int64_t>();
  return n;
}

int64_t serialized_size(const torch::jit::Module& module) {
  std::ostringstream out;
  module.save(out);
  return static_cast<int64_t>(out.str().size());
}

void measure_layers(torch::jit::Module& original, torch::jit::Module& pruned, const std::vector<std::string>& patterns,
                    int norm, PruneResult& result) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::jit::Module> after;
  for (const auto& named : pruned.named_modules()) after.emplace(named.name, named.value);
  for (const auto& named : original.named_modules()) {
    const auto& m = named.value;
    if (!m.hasattr("weight") || !m.attr("weight").isTensor() || !after.count(named.name)) continue;
    at::Tensor w0 = m.attr("weight").toTensor();
    at::Tensor w1 = after.at(named.name).attr("weight").toTensor();
    std::string kind = parameter_kind(m, w0);
    bool changed = !w0.sizes().equals(w1.sizes()) || !w0.equal(w1);
    bool selected = kind != "norm" && matches_any(patterns, named.name);
    if (!changed && !selected) continue;
    PrunedLayer layer;
    layer.name = named.name;
    layer.kind = kind;
    layer.shape_before = w0.sizes().vec();
    layer.shape_after = w1.sizes().vec();
    layer.numel = w1.numel();
    layer.zeros = w1.numel() - w1.count_nonzero().item<int64_t>();
    layer.sparsity = layer.numel ? static_cast<double>(layer.zeros) / static_cast<double>(layer.numel) : 0;
    double n0 = ln_norm(w0, norm);
    layer.norm_removed = n0 > 0 ? std::max(0.0, 1.0 - ln_norm(w1, norm) / n0) : 0;
    result.layers.push_back(std::move(layer));
  }
}

void measure_model(torch::jit::Module& original, torch::jit::Module& pruned, const std::string& model_path,
                   const std::vector<at::Tensor>& examples, const std::vector<at::Tensor>& reference,
                   PruneResult& result) {
  result.params_before = parameter_count(original);
  result.params_after = parameter_count(pruned);
  result.nonzero_before = nonzero_parameters(original);
  result.nonzero_after = nonzero_parameters(pruned);
  result.file_size_before = serialized_size(original);
  result.file_size_after = serialized_size(pruned);
  (void)model_path;
  if (examples.empty()) return;
  auto outputs = run_module(pruned, examples);
  result.outputs_same_shape = outputs.size() == reference.size();
  for (size_t i = 0; result.outputs_same_shape && i < outputs.size(); ++i)
    result.outputs_same_shape = outputs[i].sizes().equals(reference[i].sizes());
  if (result.method != "channel" && result.outputs_same_shape) {
    double worst = 0;
    for (size_t i = 0; i < outputs.size(); ++i)
      worst = std::max(worst, (outputs[i].to(at::kDouble) - reference[i].to(at::kDouble)).abs().max().item<double>());
    result.max_abs_diff = worst;  // how far the masked model moved from the original
  }
  // FLOPs from the shapes each op saw in one run (the profiler's counter).
  result.flops_before = static_cast<double>(count_module_flops(original, examples).total);
  result.flops_after = static_cast<double>(count_module_flops(pruned, examples).total);
  // Before and after interleaved in rounds: a change in machine load hits both.
  AbOptions timing;
  timing.warmup = 3;
  timing.rounds = 7;
  timing.min_round_s = 0.07;
  torch::NoGradGuard no_grad;
  AbComparison ab = with_context("timing the models", [&] {
    return time_interleaved([&] { run_module(original, examples); }, [&] { run_module(pruned, examples); }, timing);
  });
  result.latency_ms_before = ab.a_ms;
  result.latency_ms_after = ab.b_ms;
  result.latency_noise = ab.noise;
  result.latency_verdict = ab.verdict;
}

}  // namespace mlopt::pruning
