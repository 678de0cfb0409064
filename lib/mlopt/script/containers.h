#pragma once
// nn.Sequential and nn.ModuleList: children named "0", "1", ... like PyTorch,
// or by the keys of nn.Sequential(OrderedDict([("conv", ...), ...])).
#include <torch/script.h>

#include "mlopt/script/layer_registry.h"
#include "mlopt/script/py_value.h"

namespace mlopt::script {

// Sequential, ModuleList, ModuleDict (children are modules).
bool is_container(const ModuleObject& module);
// ParameterList, ParameterDict (members are parameters, named "0", "1", ... or by key).
bool is_parameter_container(const ModuleObject& module);
std::shared_ptr<ModuleObject> make_parameter_container(const std::string& kind, const PyList& items);
torch::jit::Module build_parameter_container(const ModuleObject& container, LayerContext& ctx);
// The attribute name of child k ("0", "1", ... or its OrderedDict key).
std::string child_name(const ModuleObject& container, size_t k);
// kind: "Sequential" | "ModuleList" | "ModuleDict"; every item must be a module (Sequential,
// ModuleDict: or one dict of name -> module; ModuleDict: or (name, module) pairs).
std::shared_ptr<ModuleObject> make_container(const std::string& kind, const PyList& items);
// Builds the TorchScript module of a container from its (built) children;
// Sequential gets a forward that chains them.
torch::jit::Module build_container(const ModuleObject& container, const std::vector<torch::jit::Module>& children,
                                   LayerContext& ctx);

}  // namespace mlopt::script
