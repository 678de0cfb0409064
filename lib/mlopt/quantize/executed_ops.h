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

// The input sizes each convolution saw in one forward on `inputs`, by the
// address of its weight's data (which layer it is).
std::map<const void*, std::vector<int64_t>> convolution_input_sizes(torch::jit::Module& module,
                                                                    const std::vector<at::Tensor>& inputs);

}  // namespace mlopt::quant
