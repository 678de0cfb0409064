#include "mlopt/pipeline/gates.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mlopt::pipeline {

std::optional<double> metric_value(const nlohmann::json& metrics, const std::string& dotted_key) {
  const nlohmann::json* node = &metrics;
  size_t start = 0;
  while (true) {
    size_t dot = dotted_key.find('.', start);
    const std::string part = dotted_key.substr(start, dot - start);
    if (!node->is_object() || !node->contains(part)) return std::nullopt;
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (node->is_number()) return node->get<double>();
  if (node->is_boolean()) return node->get<bool>() ? 1.0 : 0.0;
  return std::nullopt;
}

namespace {

struct Figure {
  std::optional<double> value;
  std::string text;      // "p50 latency 3.21 ms"
  std::string missing;   // why there is no value
};

Figure figure_for(const GateConfig& gate, const std::string& baseline, const MetricsOf& metrics_of) {
  const nlohmann::json m = metrics_of(gate.artifact);
  Figure f;
  if (gate.kind == "max_file_size") {
    f.value = metric_value(m, "size");
    if (f.value) f.text = fmt::format("file size {:.0f} bytes", *f.value);
    else f.missing = "no artifact written by '" + gate.artifact + "'";
  } else if (gate.kind == "max_p50_latency_ms") {
    f.value = metric_value(m, "latency_ms.p50");
    if (f.value) f.text = fmt::format("p50 latency {:.3f} ms", *f.value);
    else f.missing = "no p50 latency measured on '" + gate.artifact + "' (add a profile step reading it)";
  } else if (gate.kind == "max_accuracy_drop" || gate.kind == "min_speedup" || gate.kind == "not_slower_than_baseline") {
    const bool accuracy = gate.kind == "max_accuracy_drop";
    const std::string key = accuracy ? "accuracy" : "latency_ms.p50";
    const nlohmann::json base = metrics_of(baseline);
    auto mine = metric_value(m, key), theirs = metric_value(base, key);
    const std::string step_kind = accuracy ? "a verify step with labelled data" : "a profile step";
    if (!mine) f.missing = "no " + key + " measured on '" + gate.artifact + "' (add " + step_kind + " reading it)";
    else if (!theirs) f.missing = "no " + key + " measured on the baseline '" + baseline + "' (add " + step_kind + " reading it)";
    else if (accuracy) {
      f.value = *theirs - *mine;
      f.text = fmt::format("accuracy drop {:.4f} ({:.4f} -> {:.4f})", *f.value, *theirs, *mine);
    } else if (*mine > 0) {
      f.value = *theirs / *mine;
      f.text = fmt::format("speedup {:.2f}x ({:.3f} ms -> {:.3f} ms)", *f.value, *theirs, *mine);
    } else {
      f.missing = "latency of '" + gate.artifact + "' is 0";
    }
  } else {
    f.value = metric_value(m, gate.metric);
    if (f.value) f.text = fmt::format("{} {:.6g}", gate.metric, *f.value);
    else f.missing = "no metric '" + gate.metric + "' on '" + gate.artifact + "'";
  }
  return f;
}

}  // namespace

std::vector<std::string> timed_models(const GateConfig& gate, const std::string& baseline) {
  if (gate.kind == "max_p50_latency_ms") return {gate.artifact};
  if (gate.kind == "min_speedup" || gate.kind == "not_slower_than_baseline") return {gate.artifact, baseline};
  if (gate.kind == "metric" && (gate.metric.rfind("latency_ms", 0) == 0 || gate.metric == "throughput"))
    return {gate.artifact};
  return {};
}

bool latency_noisy(const nlohmann::json& metrics) { return metric_value(metrics, "latency_noisy").value_or(0) != 0; }

std::vector<GateVerdict> evaluate_gates(const std::vector<GateConfig>& gates, const std::string& baseline,
                                        const MetricsOf& metrics_of) {
  std::vector<GateVerdict> verdicts;
  for (const auto& gate : gates) {
    GateVerdict v;
    const std::string what = gate.kind == "metric" ? gate.metric : gate.kind;
    const std::string limit = gate.max ? fmt::format("<= {:g}", *gate.max) : fmt::format(">= {:g}", *gate.min);
    v.name = gate.kind == "not_slower_than_baseline" ? fmt::format("{}: not slower than the baseline", gate.artifact)
                                                     : fmt::format("{}: {} {}", gate.artifact, what, limit);
    Figure f = figure_for(gate, baseline, metrics_of);
    if (!f.value) {
      v.passed = false;
      v.measured = false;
      v.figure = f.missing;
    } else {
      v.passed = (!gate.max || *f.value <= *gate.max) && (!gate.min || *f.value >= *gate.min);
      v.figure = f.text;
      // A noisy figure decides only when its margin to the limit exceeds the
      // noise (twice the summed coefficients of variation): a p50 of 1 ms
      // with cv 20% passes a 5 ms limit whatever the load did.
      bool noisy = false;
      double noise = 0;
      for (const auto& model : timed_models(gate, baseline)) {
        const nlohmann::json m = metrics_of(model);
        noisy = noisy || latency_noisy(m);
        noise += metric_value(m, "latency_ms.cv").value_or(0);
      }
      const double limit = gate.max ? *gate.max : *gate.min;
      const double margin = std::abs(*f.value - limit) / std::max(std::abs(*f.value), 1e-12);
      v.inconclusive = noisy && margin <= 2 * noise;
      if (v.inconclusive) {
        v.passed = false;
        v.figure += " - inconclusive: the latency stayed noisy (coefficient of variation above the profile step's "
                    "max_cv) after re-measuring, and the limit is within its noise";
      }
    }
    verdicts.push_back(v);
  }
  return verdicts;
}

}  // namespace mlopt::pipeline
