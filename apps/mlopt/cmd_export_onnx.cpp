// mlopt export-onnx MODEL --input SPEC... [--opset N] [--output-names NAME...] -o OUT.onnx
#include <nlohmann/json.hpp>

#include "cli_binding.h"
#include "command_registry.h"
#include "mlopt/onnx/export.h"
#include "output.h"

namespace {

mlopt::cli::Action setup_export_onnx(CLI::App& app) {
  auto options = std::make_shared<mlopt::ExportOptions>();
  mlopt::cli::bind_options(app, *options);
  app.footer(
      "Example: mlopt export-onnx model.pt --input x:batch=1x3x224x224 -o model.onnx\n"
      "Dims written NAME=SIZE are dynamic in the ONNX file. See docs/export-onnx.md.");
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::export_onnx(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return 0;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("export-onnx", "Export a TorchScript model to ONNX (checked, ONNX Runtime-ready)", 40,
                       setup_export_onnx);
