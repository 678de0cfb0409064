#pragma once
// Gates: limits on the figures measured on a model (size, p50 latency,
// accuracy drop and speedup against the baseline, any metric by its dotted key).
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/pipeline/run.h"

namespace mlopt::pipeline {

// Below this speedup over the baseline an optimized artifact is "slower": flagged
// in the reports, failed by the opt-in gate `not_slower_than_baseline`. The 5%
// margin is what separately profiled figures differ by on a quiet machine.
inline constexpr double kSlowerThanBaseline = 0.95;

// A figure by dotted key (`latency_ms.p50`) in a metrics object.
std::optional<double> metric_value(const nlohmann::json& metrics, const std::string& dotted_key);

// The metrics of a model reference (its primary artifact), with `size` included.
using MetricsOf = std::function<nlohmann::json(const std::string& model)>;

// The models whose latency a gate reads (its artifact; and the baseline for
// min_speedup); empty for a gate on anything else.
std::vector<std::string> timed_models(const GateConfig& gate, const std::string& baseline);

// Whether a model's latency figure is noisy (the profile step's `latency_noisy`).
bool latency_noisy(const nlohmann::json& metrics);

// A latency gate whose figure is noisy is inconclusive, neither passed nor
// failed (the runner re-measures before it evaluates).
std::vector<GateVerdict> evaluate_gates(const std::vector<GateConfig>& gates, const std::string& baseline,
                                        const MetricsOf& metrics_of);

}  // namespace mlopt::pipeline
