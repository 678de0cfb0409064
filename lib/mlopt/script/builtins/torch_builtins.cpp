// torch.nn layers and containers, torch.* tensor factories and Tensor methods in __init__.
#include <algorithm>
#include <cmath>
#include "mlopt/script/containers.h"
#include "mlopt/script/layer_registry.h"
#include "mlopt/core/error.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/checked_int.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

PyValue torch_builtin(const BuiltinCall& c) {
  const std::string& name = c.name;
  const PyValue& callee = c.callee;
  const PyList& args = c.args;
  const KwArgs& kwargs = c.kwargs;
  const torch::jit::SourceRange& range = c.range;
  static const std::string nn = "torch.nn.";
  if (name.rfind(nn, 0) == 0) {
    std::string layer = name.substr(nn.size());
    if (layer == "Parameter" || layer == "parameter.Parameter") {
      c.need(1, 2);
      if (!args[0].is_tensor()) fail_at(range, "nn.Parameter(): a tensor is expected");
      return PyValue::of_tensor(args[0].tensor, true);
    }
    if (layer == "Sequential" || layer == "ModuleList") {
      PyList items = layer == "ModuleList" && args.size() == 1 ? c.iterate(args[0]) : args;
      return PyValue::of_module(make_container(layer, items));
    }
    if (const LayerSpec* spec = find_layer(layer)) {
      LayerArgs bound = bind_layer_args(*spec, args, kwargs);
      auto m = std::make_shared<ModuleObject>();
      m->kind = layer;
      c.ctx().layer = "nn." + layer;
      m->built = spec->build(bound, c.ctx());
      for (auto& [k, v] : bound.values()) m->members.emplace_back(k, v);
      return PyValue::of_module(m);
    }
    if (layer == "Module") fail_at(range, "nn.Module() cannot be instantiated directly");
    fail_at(range, "nn." + layer + " is not supported (supported layers: " + fmt::format("{}", fmt::join(layer_names(), ", ")) + ")");
  }
  if (name.rfind("torch.", 0) == 0 && name.find('.', 6) == std::string::npos) return c.make_tensor(name.substr(6));
  if (name.rfind("tensor.", 0) == 0) {
    std::string method = name.substr(7);
    const at::Tensor& t = callee.bound->tensor;
    if (method == "size" || method == "dim" || method == "numel") {
      if (method == "dim") return PyValue::integer(t.dim());
      if (method == "numel") return PyValue::integer(t.numel());
      if (args.empty()) return c.get_attr(*callee.bound, "shape");
      return PyValue::integer(t.size(c.need_int(args[0])));
    }
    if (method == "item") return t.is_floating_point() ? PyValue::real(t.item<double>()) : PyValue::integer(t.item<int64_t>());
    if (method == "float") return PyValue::of_tensor(t.to(at::kFloat));
    if (method == "long") return PyValue::of_tensor(t.to(at::kLong));
    if (method == "unsqueeze") return PyValue::of_tensor(t.unsqueeze(c.need_int(args.at(0))));
    fail_at(range, "Tensor." + method + "() is not supported in __init__");
  }
  fail_at(range, "call to '" + name + "' is not supported in __init__");
}

}  // namespace

MLOPT_REGISTER_BUILTINS("torch", {"torch.", "tensor."}, torch_builtin);

}  // namespace mlopt::script
