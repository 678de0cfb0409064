#pragma once
// Source-level rewrites that make a user method compilable by LibTorch's C++
// front end, which lacks Python's module sugar:
//   self.conv(x)                -> self.conv.forward(x)
//   for layer in self.layers:   -> unrolled, `layer` bound to getattr(self.layers, "0"), ...
//   for i, m in enumerate(...)  -> unrolled with i a constant
//   self.layers[1]              -> getattr(self.layers, "1")
//   len(self.layers)            -> a constant
#include <torch/csrc/jit/frontend/tree_views.h>

#include "mlopt/script/py_value.h"

namespace mlopt::script {

torch::jit::Def rewrite_method(const torch::jit::Def& def, const std::shared_ptr<ModuleObject>& self);

}  // namespace mlopt::script
