// Pipeline steps `quantize` (int8 / fp16 / bf16 TorchScript) and `quantize-onnx`
// (int8 QDQ / dynamic MatMulInteger / fp16 ONNX): one options struct, one
// library function (lib/mlopt/quantize); only the artifact's format differs.
#include <nlohmann/json.hpp>

#include "mlopt/pipeline/step_registry.h"
#include "mlopt/quantize/quantize.h"

namespace mlopt::pipeline {
namespace {
StepType quantize_step(const char* name, const char* summary, const char* extension) {
  auto type = subcommand_step(name, summary, extension, &quantize);
  // --max-accuracy-drop / --min-speedup not met: a failed check, reported with the gates.
  type.failure = [](const nlohmann::json& result) -> std::string {
    if (result.value("exit_code", 0) == 3 || !result.value("passed", true))
      return "quantize: " + result.value("error", std::string("accuracy budget or minimum speedup not met"));
    return "";
  };
  return type;
}
}  // namespace
MLOPT_REGISTER_STEP(quantize_step("quantize", "int8 (dynamic, static) or fp16/bf16 TorchScript model", ".pt"));
MLOPT_REGISTER_STEP(quantize_step("quantize-onnx", "int8 (static QDQ, dynamic MatMulInteger) or fp16 ONNX file", ".onnx"));
}  // namespace mlopt::pipeline
