// `mlopt trace` and the step `trace`: a static TorchScript graph recorded by
// running the model on example inputs, checked on fresh ones (lib/mlopt/capture).
#include "mlopt/capture/trace.h"
#include "mlopt/commands/command.h"

namespace mlopt::commands {
Command trace_command() {
  auto command =
      make_command("trace", "Record a static TorchScript graph by running the model on example inputs", &trace);
  command.steps = {step_of(command, "TorchScript graph recorded on the pipeline's inputs, checked on fresh ones", ".pt")};
  return command;
}
}  // namespace mlopt::commands
