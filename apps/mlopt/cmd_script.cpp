// mlopt script: compile a Python model file into TorchScript without Python.
#include "cli_binding.h"
#include "command_registry.h"
#include "output.h"
#include "mlopt/script/script.h"

namespace {
mlopt::cli::Action setup_script(CLI::App& app) {
  auto options = std::make_shared<mlopt::ScriptOptions>();
  mlopt::cli::bind_options(app, *options);
  app.footer(
      "Example: mlopt script examples/models/digits_cnn.py --class DigitsCNN --weights w.pth -o digits.pt\n"
      "Exit codes: 0 success, 1 error (bad input, failure), 2 usage error, 3 the .ptl check failed.");
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::script(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return 0;
  };
}
}  // namespace

MLOPT_REGISTER_COMMAND("script", "Compile a PyTorch model file (.py) into TorchScript (.pt/.ptl) without Python", 10,
                       setup_script);
