// `mlopt script` and the step `script`: a Python model file compiled into
// TorchScript without Python (lib/mlopt/script).
#include "mlopt/commands/command.h"
#include "mlopt/script/script.h"

namespace mlopt::commands {
Command script_command() {
  auto command =
      make_command("script", "Compile a PyTorch model file (.py) into TorchScript (.pt/.ptl) without Python", &script);
  command.cli.footer =
      "Example: mlopt script examples/models/digits_cnn.py --class DigitsCNN --weights w.pth -o digits.pt\n"
      "Exit codes: 0 success, 1 error (bad input, failure), 2 usage error, 3 the .ptl check failed.";
  command.steps = {step_of(command, "Python nn.Module source -> TorchScript archive", ".pt")};
  return command;
}
}  // namespace mlopt::commands
