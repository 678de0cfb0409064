#pragma once
// Source-level rewrites that make a user method compilable by LibTorch's C++
// front end, which lacks Python's module sugar:
//   self.conv(x)                -> self.conv.forward(x)
//   for layer in self.layers:   -> unrolled, `layer` bound to getattr(self.layers, "0"), ...
//   for i, m in enumerate(...)  -> unrolled with i a constant
//   self.layers[1]              -> getattr(self.layers, "1")
//   len(self.layers)            -> a constant
//   self.act(x), act stored in __init__ as a lambda -> self._lambda_act(x); as F.relu or partial(F.relu, ...)
//                               -> the function called with the partial's arguments
//   unused *args / **kwargs parameters dropped (used ones are an error)
#include <torch/csrc/jit/frontend/tree_views.h>

#include "mlopt/script/py_value.h"

namespace mlopt::script {

torch::jit::Def rewrite_method(const torch::jit::Def& def, const std::shared_ptr<ModuleObject>& self);

// The method a lambda stored as self.<attribute> becomes.
std::string lambda_method_name(const std::string& attribute);

}  // namespace mlopt::script
