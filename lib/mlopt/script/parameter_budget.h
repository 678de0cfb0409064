#pragma once
// What the parameters and buffers of a `.py` model may take, in total, before
// `script` allocates them. A hostile or mistaken file (`nn.Linear(10**6,
// 10**6)`, `torch.zeros(10**12)` in __init__) is refused with one line naming
// the file, line and layer, instead of being killed for memory (or, with
// overcommit, swapping while the initializer touches every page).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace mlopt::script {

class ParameterBudget {
 public:
  // The default is the input-spec limit (kMaxSpecElements, 2^31 elements) of
  // float32: 8 GiB, far beyond the models mlopt is for.
  static uint64_t default_limit_bytes();
  // For callers with a tighter memory budget (the fuzz target and its replay).
  static void set_default_limit_bytes(uint64_t bytes);
  explicit ParameterBudget(uint64_t limit_bytes = default_limit_bytes()) : limit_(limit_bytes) {}

  // Counts a tensor of `shape` and `dtype` about to be made for `what`
  // ("nn.Linear", "torch.zeros"); fails before allocating when a dim is
  // negative or the model's total would exceed the limit.
  void reserve(at::IntArrayRef shape, at::ScalarType dtype, const std::string& what);
  void reserve_elements(double elements, at::ScalarType dtype, const std::string& what);
  uint64_t used_bytes() const { return used_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
};

}  // namespace mlopt::script
