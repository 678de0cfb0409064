// PruneResult as JSON (--json) and as the human summary.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "mlopt/core/shape_text.h"
#include "mlopt/prune/prune.h"

namespace mlopt {

namespace {
nlohmann::json optional_number(double v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); }
double ratio(double before, double after) { return after > 0 ? before / after : 0; }
}  // namespace

nlohmann::json PruneResult::to_json() const {
  nlohmann::json j;
  j["model"] = model;
  j["output"] = output;
  j["method"] = method;
  j["amount"] = amount;
  auto& ls = j["layers"] = nlohmann::json::array();
  for (const auto& l : layers)
    ls.push_back({{"name", l.name}, {"kind", l.kind}, {"shape_before", l.shape_before}, {"shape_after", l.shape_after},
                  {"zeros", l.zeros}, {"numel", l.numel}, {"sparsity", l.sparsity}, {"norm_removed", l.norm_removed}});
  auto& at = j["attention"] = nlohmann::json::array();
  for (const auto& a : attention)
    at.push_back({{"name", a.name}, {"heads_before", a.heads_before}, {"heads_after", a.heads_after},
                  {"head_dim", a.head_dim}, {"inner_before", a.heads_before * a.head_dim},
                  {"inner_after", a.heads_after * a.head_dim}});
  auto& sk = j["skipped"] = nlohmann::json::array();
  for (const auto& s : skipped) sk.push_back({{"layers", s.layers}, {"reason", s.reason}});
  j["totals"] = {{"params_before", params_before},
                 {"params_after", params_after},
                 {"param_ratio", ratio(params_before, params_after)},
                 {"nonzero_before", nonzero_before},
                 {"nonzero_after", nonzero_after},
                 {"file_size_before", file_size_before},
                 {"file_size_after", file_size_after},
                 {"flops_before", optional_number(flops_before)},
                 {"flops_after", optional_number(flops_after)},
                 {"flops_ratio", flops_after > 0 ? nlohmann::json(ratio(flops_before, flops_after)) : nlohmann::json()},
                 {"latency_ms_before", optional_number(latency_ms_before)},
                 {"latency_ms_after", optional_number(latency_ms_after)},
                 {"latency_ratio", latency_ms_after > 0 ? nlohmann::json(ratio(latency_ms_before, latency_ms_after))
                                                        : nlohmann::json()},
                 {"latency_noise", latency_noise},
                 {"latency_verdict", latency_verdict}};
  j["outputs_same_shape"] = outputs_same_shape;
  j["max_abs_diff"] = optional_number(max_abs_diff);
  j["artifact_verified"] = artifact_verified;
  j["artifact_max_abs_diff"] = artifact_max_abs_diff;
  if (!eval_metric.empty())
    j["eval"] = {{"metric", eval_metric}, {"before", eval_before}, {"after", eval_after}};
  if (finetune_epochs > 0) j["finetune"] = {{"epochs", finetune_epochs}, {"losses", finetune_losses}};
  return j;
}

std::string PruneResult::to_text() const {
  std::ostringstream out;
  out << fmt::format("pruned {} -> {} ({}, amount {})\n", model, output, method, amount);
  out << fmt::format("  {:<32} {:<6} {:>16} {:>16} {:>9} {:>9}\n", "layer", "kind", "shape before", "shape after",
                     "sparsity", "norm cut");
  for (const auto& l : layers)
    out << fmt::format("  {:<32} {:<6} {:>16} {:>16} {:>8.1f}% {:>8.1f}%\n", l.name, l.kind, dims_text(l.shape_before),
                       dims_text(l.shape_after), 100 * l.sparsity, 100 * l.norm_removed);
  for (const auto& a : attention)
    out << fmt::format("  {:<32} {:<6} {:>16} {:>16}\n", a.name, "heads",
                       fmt::format("{}x{}", a.heads_before, a.head_dim), fmt::format("{}x{}", a.heads_after, a.head_dim));
  out << fmt::format("  parameters {} -> {} ({:.2f}x), non-zero {} -> {}\n", params_before, params_after,
                     ratio(params_before, params_after), nonzero_before, nonzero_after);
  out << fmt::format("  file size {} -> {} bytes\n", file_size_before, file_size_after);
  if (flops_after > 0)
    out << fmt::format("  FLOPs {:.4g} -> {:.4g} ({:.2f}x)\n", flops_before, flops_after, ratio(flops_before, flops_after));
  if (latency_ms_after >= 0)
    out << fmt::format("  latency {:.3f} ms -> {:.3f} ms ({:.2f}x, {}; noise {:.1f}% over interleaved rounds){}\n",
                       latency_ms_before, latency_ms_after, ratio(latency_ms_before, latency_ms_after),
                       latency_verdict, 100 * latency_noise,
                       latency_verdict == "inconclusive" ? " - too noisy to be a finding (busy machine?)" : "");
  if (!eval_metric.empty())
    out << fmt::format("  {} {:.2f}% -> {:.2f}%\n", eval_metric, 100 * eval_before, 100 * eval_after);
  for (const auto& s : skipped) {
    std::string names;
    for (size_t i = 0; i < s.layers.size(); ++i) names += (i ? ", " : "") + s.layers[i];
    out << fmt::format("  left alone: {} ({})\n", names, s.reason);
  }
  if (artifact_verified) out << fmt::format("  artifact verified (max abs diff {:.3g})\n", artifact_max_abs_diff);
  return out.str();
}

}  // namespace mlopt
