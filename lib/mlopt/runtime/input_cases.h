#pragma once
// The input sets models run on (verify, profile): random draws from specs (at
// the example shape and, for dynamic dims, at more sizes), tensors from a file,
// or batches of a data set. Holds tensors, so it includes LibTorch; the runner
// itself (runner.h) does not.
#include <torch/script.h>

#include <string>
#include <vector>

#include "mlopt/core/dataset.h"
#include "mlopt/core/input_spec.h"

namespace mlopt {

struct InputCase {
  std::string shape_label;         // "x:1x16,y:1x4": cases with one label are one shape check
  std::vector<at::Tensor> inputs;
  at::Tensor labels;               // --data with labels: [batch] class indices
};

// Random draws: `samples` per size; the first size is each spec's example.
std::vector<InputCase> random_cases(const std::vector<InputSpec>& specs, int samples,
                                    const std::vector<int64_t>& dynamic_sizes, uint64_t seed);

// The tensors of a .npy/.npz file, ordered by the specs' names (a single
// array or an npz in input order is accepted when names do not match).
InputCase file_case(const std::string& path, const std::vector<InputSpec>& specs);

// Batches of a data set's validation part (all of it when the split is 0).
std::vector<InputCase> data_cases(const Dataset& data, int batch_size, int max_samples);

std::string shape_label(const std::vector<InputSpec>& specs, const std::vector<at::Tensor>& inputs);

}  // namespace mlopt
