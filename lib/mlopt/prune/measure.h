#pragma once
// The numbers of the prune report: per-layer shapes, sparsity and norm
// removed; model totals (parameters, serialized size, latency, FLOPs when
// the profiler provides them); the pruned outputs' shapes against the original.
#include <torch/script.h>

#include <string>
#include <vector>

#include "mlopt/prune/prune.h"

namespace mlopt::pruning {

// One row per conv / linear / norm layer that was selected or changed shape.
void measure_layers(torch::jit::Module& original, torch::jit::Module& pruned, const std::vector<std::string>& patterns,
                    int norm, PruneResult& result);

// Totals; `reference` are the original's outputs on `examples` (empty: no inputs).
void measure_model(torch::jit::Module& original, torch::jit::Module& pruned, const std::string& model_path,
                   const std::vector<at::Tensor>& examples, const std::vector<at::Tensor>& reference,
                   PruneResult& result);

int64_t nonzero_parameters(const torch::jit::Module& module);
int64_t serialized_size(const torch::jit::Module& module);

}  // namespace mlopt::pruning
