#pragma once
// Turns model runs into drift rows (drift.h): one RowStats per batch row.
// Torch-free header (tensors are forward-declared) so serve can include it.
#include <cstdint>
#include <vector>

#include "mlopt/registry/drift.h"

namespace at {
class Tensor;
}

namespace mlopt {
class Runner;
}

namespace mlopt::registry {

// A 2-D floating output with 2+ columns is a classifier: its rows are
// probabilities when they already sum to 1, else logits (softmaxed here).
// Any other output is a regressor, summarized by each row's mean.
std::vector<RowStats> row_stats(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs);

// Runs `runner` over `inputs` (each [N, ...], same N) in batches of
// `batch_size` and adds every row to `window`.
void run_into_window(Runner& runner, const std::vector<at::Tensor>& inputs, int64_t batch_size, StatsWindow& window);

}  // namespace mlopt::registry
