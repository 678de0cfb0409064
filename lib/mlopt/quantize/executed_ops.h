#pragma once
// The operators a TorchScript module executes on given inputs (not the ones
// its graph contains): what the quantize report lists as kernels, so that a
// branch that never runs (a fused fast path, an unfused slow path) does not
// count.
#include <torch/script.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlopt::quant {

// Top-level operator calls (not those an operator makes inside) -> count, for
// one forward on `inputs`.
std::map<std::string, int64_t> executed_ops(torch::jit::Module& module, const std::vector<at::Tensor>& inputs);

// The weights of the convolutions one forward on `inputs` runs, in the order
// they run, by the address of the weight's data (which layer each is).
std::vector<const void*> convolution_weights_in_order(torch::jit::Module& module, const std::vector<at::Tensor>& inputs);

// One forward that may fail, watched: the error ("" when it ran), how many
// convolutions (float or int8) started, and whether the failing operator was
// the last of them -- so that the n-th convolution of a quantized model names
// the n-th of its float original.
struct WatchedForward {
  std::string error;
  int64_t convolutions = 0;
  bool failed_in_convolution = false;
};
WatchedForward forward_watching_convolutions(torch::jit::Module& module, const std::vector<at::Tensor>& inputs);

}  // namespace mlopt::quant
