// `mlopt export-onnx` and the step `export-onnx`: an ONNX file from a
// TorchScript model (lib/mlopt/onnx).
#include "mlopt/commands/command.h"
#include "mlopt/onnx/export.h"

namespace mlopt::commands {
Command export_onnx_command() {
  auto command =
      make_command("export-onnx", "Export a TorchScript model to ONNX (checked, ONNX Runtime-ready)", &export_onnx);
  command.cli.footer =
      "Example: mlopt export-onnx model.pt --input x:batch=1x3x224x224 -o model.onnx\n"
      "Dims written NAME=SIZE are dynamic in the ONNX file. See docs/export-onnx.md.";
  command.steps = {step_of(command, "ONNX file (opset 13-17, dynamic dims from the input specs)", ".onnx")};
  return command;
}
}  // namespace mlopt::commands
