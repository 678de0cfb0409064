// Pipeline step `profile`: latency percentiles, throughput and FLOPs of each
// model it reads (`from: [a, b]`), recorded on those models (lib/mlopt/profile).
#include <nlohmann/json.hpp>

#include "mlopt/pipeline/step_registry.h"
#include "mlopt/profile/profile.h"

namespace mlopt::pipeline {
namespace {
StepType profile_step() {
  auto type = subcommand_step("profile", "latency (p50/p90/p99), throughput, FLOPs", "", &profile);
  type.metrics = [](const nlohmann::json& result) {
    nlohmann::json m = nlohmann::json::object();
    for (const char* key : {"latency_ms", "throughput", "flops", "peak_rss_bytes"})
      if (result.contains(key)) m[key] = result[key];
    return m;
  };
  return type;
}
}  // namespace
MLOPT_REGISTER_STEP(profile_step());
}  // namespace mlopt::pipeline
