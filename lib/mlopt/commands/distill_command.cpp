// `mlopt distill` and the step `distill`: trains the model it reads (the
// student) against a teacher, or on labels alone with `alpha: 0` (lib/mlopt/distill).
#include "mlopt/commands/command.h"
#include "mlopt/distill/distill.h"

namespace mlopt::commands {
Command distill_command() {
  auto command = make_command("distill", "Train a student model from a teacher (knowledge distillation) or from labels",
                              &distill_model, [](const DistillResult& r) {
                                Outcome outcome = outcome_of(r);
                                outcome.print = r.wrote_output;  // rank 0 reports for all
                                return outcome;
                              });
  command.cli.footer =
      "Data parallel: launch N copies with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set (as torchrun does);\n"
      "each trains on its shard, rank 0 writes the model and the report.\n\n"
      "Exit codes: 0 success, 1 error (bad input, failure), 2 usage error,\n"
      "            3 a check failed (trace check, verify, pipeline gates), 130 interrupted.";
  StepSpec step = step_of(command, "knowledge distillation or plain training on a data set", ".pt");
  step.primary_model_key = "student";
  step.model_option_keys = {"student", "teacher"};
  command.steps = {step};
  return command;
}
}  // namespace mlopt::commands
