// Pipeline step `distill`: trains the model it reads (the student) against a
// teacher, or on labels alone with `alpha: 0` (lib/mlopt/distill).
#include "mlopt/distill/distill.h"
#include "mlopt/pipeline/step_registry.h"

namespace mlopt::pipeline {
namespace {
StepType distill_step() {
  auto type = subcommand_step("distill", "knowledge distillation or plain training on a data set", ".pt", &distill_model);
  type.primary_model_key = "student";
  type.model_option_keys = {"student", "teacher"};
  return type;
}
}  // namespace
MLOPT_REGISTER_STEP(distill_step());
}  // namespace mlopt::pipeline
