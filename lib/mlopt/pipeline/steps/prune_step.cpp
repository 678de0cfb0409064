// Pipeline step `prune`: sparsity masks or channel removal (lib/mlopt/prune).
#include "mlopt/pipeline/step_registry.h"
#include "mlopt/prune/prune.h"

namespace mlopt::pipeline {
MLOPT_REGISTER_STEP(subcommand_step("prune", "unstructured or channel pruning, optional fine-tuning", ".pt", &prune));
}  // namespace mlopt::pipeline
