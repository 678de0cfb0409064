#pragma once
// Writes the pruned module as .pt / .ptl / .onnx and checks that the written
// file reproduces the pruned module's outputs on the example inputs.
#include <torch/script.h>

#include <vector>

#include "mlopt/core/input_spec.h"
#include "mlopt/prune/prune.h"

namespace mlopt::pruning {

void write_artifact(torch::jit::Module& pruned, const PruneOptions& options, const std::vector<InputSpec>& specs,
                    const std::vector<at::Tensor>& examples, PruneResult& result);

}  // namespace mlopt::pruning
