#pragma once
// Warm-up: runs the model at every batch size batching can form (powers of two
// up to max_batch), so no client pays for first-run allocations, and learns
// the output signature on the way: output dims that follow the batch are -1.
#include <vector>

#include "mlopt/serve/model.h"
#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

struct WarmupResult {
  std::vector<TensorSpec> outputs;  // named output0.. unless names are given
  bool batchable = false;           // inputs and outputs all have the batch as dim 0
  double seconds = 0;
};

// `examples`: one example shape per input (its dynamic dims at their example
// size). Throws mlopt::Error when the model fails at batch 1.
WarmupResult warm_up(std::vector<Model*> models, const std::vector<TensorSpec>& inputs,
                     const std::vector<std::vector<int64_t>>& examples, int max_batch, int runs,
                     const std::vector<std::string>& output_names);

}  // namespace mlopt::serving
