#pragma once
// fp16 / bf16 artifacts: the module is frozen and every float32 weight
// constant is stored in half precision, cast back to float32 where it is used
// (LibTorch 1.13's CPU kernels have no general fp16 matmul/conv).
#include <torch/script.h>

#include <string>

namespace mlopt::quant {

struct HalfResult {
  torch::jit::Module module;
  int64_t tensors_converted = 0;
};

HalfResult store_in_half(const torch::jit::Module& model, const std::string& mode);  // "fp16" | "bf16"

}  // namespace mlopt::quant
