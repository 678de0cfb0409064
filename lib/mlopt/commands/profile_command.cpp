// `mlopt profile` and the step `profile`: latency percentiles, throughput and
// FLOPs of each model it reads (`from: [a, b]`), recorded on those models
// (lib/mlopt/profile).
#include "mlopt/commands/command.h"
#include "mlopt/profile/profile.h"

namespace mlopt::commands {
Command profile_command() {
  auto command = make_command("profile", "Measure latency, throughput, memory and FLOPs of an artifact", &profile);
  // `--threads 1,2` here is the list of thread counts to measure; it replaces
  // the global --threads (which profile would otherwise apply to every run).
  command.cli.replaced_global_flags = {"threads"};
  command.cli.list_flags = {"batch", "threads"};
  StepSpec step = step_of(command, "latency (p50/p90/p99), throughput, FLOPs", "");
  step.metrics = [](const nlohmann::json& result) {
    nlohmann::json m = nlohmann::json::object();
    // engine / reference_path: reports label a latency from the built-in ONNX evaluator as such.
    for (const char* key : {"latency_ms", "throughput", "flops", "peak_rss_bytes", "engine", "reference_path"})
      if (result.contains(key)) m[key] = result[key];
    // Whether the latency figure is noisy (cv above --max-cv): a gate on it re-measures.
    if (result.contains("runs") && !result["runs"].empty()) m["latency_noisy"] = result["runs"][0].value("noisy", false);
    return m;
  };
  command.steps = {step};
  return command;
}
}  // namespace mlopt::commands
