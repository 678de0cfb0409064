#pragma once
// torch.* functions and Tensor methods in __init__ beyond the tensor factories (torch.exp, torch.sin,
// torch.outer, torch.triu, ...): the call is run as a one-line TorchScript
// function over the values __init__ computed, so each has PyTorch's own
// semantics without a hand-written table. A sinusoidal PositionalEncoding
// buffer is the usual case.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlopt/script/py_value.h"

namespace mlopt::script {

// torch.NAME(args..., key=value...) on tensors, numbers, bools, strings, lists
// of those and dtypes. nullopt when an argument has no TorchScript form (a
// module, a function) or the result is not a tensor, number or tuple/list of
// tensors; LibTorch's own error (unknown function, wrong arguments) is thrown
// as an mlopt::Error naming torch.NAME. `before_running` gets the result's
// shapes (meta tensors) before the real call allocates anything, where the op
// has a meta kernel: it may throw to refuse an output too large.
std::optional<PyValue> call_torch_function(const std::string& name, const PyList& args,
                                           const std::vector<std::pair<std::string, PyValue>>& kwargs,
                                           const std::function<void(const PyValue&)>& before_running = {});
// The same for a Tensor method: self.NAME(args..., key=value...).
std::optional<PyValue> call_tensor_method(const at::Tensor& self, const std::string& name, const PyList& args,
                                          const std::vector<std::pair<std::string, PyValue>>& kwargs,
                                          const std::function<void(const PyValue&)>& before_running = {});

}  // namespace mlopt::script
