// Pipeline step `quantize`: int8 / fp16 / bf16 TorchScript artifacts (lib/mlopt/quantize).
#include <nlohmann/json.hpp>

#include "mlopt/pipeline/step_registry.h"
#include "mlopt/quantize/quantize.h"

namespace mlopt::pipeline {
namespace {
StepType quantize_step() {
  auto type = subcommand_step("quantize", "int8 (dynamic, static) or fp16/bf16 TorchScript model", ".pt", &quantize);
  // --max-accuracy-drop / --min-speedup not met: a failed check, reported with the gates.
  type.failure = [](const nlohmann::json& result) -> std::string {
    if (result.value("exit_code", 0) == 3 || !result.value("passed", true))
      return "quantize: " + result.value("error", std::string("accuracy budget or minimum speedup not met"));
    return "";
  };
  return type;
}
}  // namespace
MLOPT_REGISTER_STEP(quantize_step());
}  // namespace mlopt::pipeline
