// `mlopt quantize` and the steps `quantize` (int8 / fp16 / bf16 TorchScript)
// and `quantize-onnx` (int8 QDQ / dynamic MatMulInteger / fp16 ONNX): one
// options struct, one library function (lib/mlopt/quantize); only the
// artifact's format differs.
#include "mlopt/commands/command.h"
#include "mlopt/quantize/quantize.h"

namespace mlopt::commands {
namespace {
// --max-accuracy-drop / --min-speedup not met: a failed check, reported with the gates.
std::string budget_failure(const nlohmann::json& result) {
  if (result.value("exit_code", 0) == 3 || !result.value("passed", true))
    return "quantize: " + result.value("error", std::string("accuracy budget or minimum speedup not met"));
  return "";
}
}  // namespace

Command quantize_command() {
  auto command = make_command("quantize",
                              "Quantize a model to int8 (dynamic, static, qat: quantization-aware training) or fp16/bf16 with an accuracy report",
                              &quantize, [](const QuantizeResult& r) { return outcome_of(r, r.exit_code); });
  StepSpec torchscript = step_of(command, "int8 (dynamic, static, qat) or fp16/bf16 TorchScript model", ".pt");
  torchscript.failure = budget_failure;
  torchscript.model_option_keys = {"teacher"};  // qat's teacher may be another step's model
  StepSpec onnx = torchscript;
  onnx.name = "quantize-onnx";
  onnx.summary = "int8 (static or qat QDQ, dynamic MatMulInteger) or fp16 ONNX file";
  onnx.artifact_extension = ".onnx";
  command.steps = {torchscript, onnx};
  return command;
}
}  // namespace mlopt::commands
