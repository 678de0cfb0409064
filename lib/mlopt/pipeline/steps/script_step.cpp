// Pipeline step `script`: the Python model source compiled to TorchScript (lib/mlopt/script).
#include "mlopt/pipeline/step_registry.h"
#include "mlopt/script/script.h"

namespace mlopt::pipeline {
MLOPT_REGISTER_STEP(subcommand_step("script", "Python nn.Module source -> TorchScript archive", ".pt", &script));
}  // namespace mlopt::pipeline
