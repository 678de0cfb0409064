#pragma once
// A value computed in __init__ written back as a TorchScript expression, so
// that code forward runs can use it as a constant: the closure variables of a
// lambda stored on the module, the arguments a functools.partial holds.
#include <torch/csrc/jit/frontend/tree_views.h>

#include <optional>

#include "mlopt/script/py_value.h"

namespace mlopt::script {

// int, float, bool, str, None and tuples/lists of them; nullopt for anything else.
std::optional<torch::jit::Expr> value_expr(const PyValue& value, const torch::jit::SourceRange& range);

// `torch.nn.functional.relu` as a Select chain from `torch` (a callable stored on the module); nullopt
// when the callable is not a torch.* function.
std::optional<torch::jit::Expr> torch_function_expr(const std::string& dotted, const torch::jit::SourceRange& range);

}  // namespace mlopt::script
