// `mlopt prune` and the step `prune`: sparsity masks or channel removal (lib/mlopt/prune).
#include "mlopt/commands/command.h"
#include "mlopt/prune/prune.h"

namespace mlopt::commands {
Command prune_command() {
  auto command = make_command("prune", "Prune weights or channels of a model", &prune);
  command.cli.footer =
      "Methods: l1-unstructured (per layer), global-unstructured (all layers ranked together),\n"
      "ln-structured (zero whole output channels), channel (remove channels and everything coupled to them).\n"
      "Example: mlopt prune resnet.pt --method channel --amount 0.5 --input x:1x3x224x224 -o small.pt\n"
      "Exit codes: 0 success, 1 error (bad input, failure), 2 usage error,\n"
      "            3 a check failed (the artifact does not reproduce the pruned model), 130 interrupted.";
  command.steps = {step_of(command, "unstructured or channel pruning, optional fine-tuning", ".pt")};
  return command;
}
}  // namespace mlopt::commands
