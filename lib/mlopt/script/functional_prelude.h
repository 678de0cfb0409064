#pragma once
// TorchScript definitions of the torch.nn.functional functions whose ATen
// signature differs from Python's (argument names, order, `inplace` flags).
// Every other F.name resolves to aten::name.
#include <string>

namespace mlopt::script {
// Qualified prefix under which the prelude functions live in the compilation unit.
inline constexpr const char* kFunctionalPrefix = "__torch__.mlopt_functional";
const std::string& functional_prelude_source();
}  // namespace mlopt::script
