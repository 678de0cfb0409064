#pragma once
// torch.nn.functional calls whose Python signature TorchScript cannot type:
// F.interpolate takes `size` and `scale_factor` as a number, a tuple or a list.
// Its call is normalized at compile time (lists; ints made floats) and handed
// to the prelude's `_interpolate`.
#include <torch/csrc/jit/frontend/sugared_value.h>

namespace mlopt::script {

// The call sugar for F.interpolate over the prelude's compiled `_interpolate`.
std::shared_ptr<torch::jit::SugaredValue> interpolate_call(torch::jit::Function* prelude_interpolate);

}  // namespace mlopt::script
