// torch.nn layers and containers, torch.* tensor factories and Tensor methods in __init__.
#include <algorithm>
#include <cmath>
#include "mlopt/script/containers.h"
#include "mlopt/script/layer_registry.h"
#include "mlopt/core/error.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/checked_int.h"
#include "mlopt/script/torch_call.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

// nn.init.*_ on a parameter or buffer, in place (drawn from the seeded generator; loaded weights replace them).
PyValue nn_init(const BuiltinCall& c, const std::string& fn) {
  if (fn == "calculate_gain") {
    c.need(1, 2);
    std::string name = c.args[0].s;
    double slope = c.args.size() > 1 && c.args[1].is_number() ? c.args[1].as_double() : 0.01;
    if (name == "relu") return PyValue::real(std::sqrt(2.0));
    if (name == "tanh") return PyValue::real(5.0 / 3);
    if (name == "leaky_relu") return PyValue::real(std::sqrt(2.0 / (1 + slope * slope)));
    if (name == "selu") return PyValue::real(0.75);
    return PyValue::real(1.0);  // linear, conv*, sigmoid
  }
  c.need(1, 5);
  if (!c.args[0].is_tensor()) fail_at(c.range, "nn.init." + fn + "(): a tensor is expected");
  at::Tensor t = c.args[0].tensor;
  auto number = [&](size_t index, const char* key, double fallback) {
    if (const PyValue* v = c.kwarg(key)) return v->as_double();
    return index < c.args.size() && c.args[index].is_number() ? c.args[index].as_double() : fallback;
  };
  int64_t fan_in = t.dim() > 1 ? t.size(1) : t.numel(), fan_out = t.dim() > 1 ? t.size(0) : t.numel();
  for (int64_t d = 2; d < t.dim(); ++d) fan_in *= t.size(d), fan_out *= t.size(d);
  std::string mode = "fan_in";
  if (const PyValue* m = c.kwarg("mode")) mode = m->s;
  double a = number(1, "a", 0.0);
  std::string nonlinearity = "leaky_relu";
  if (const PyValue* n = c.kwarg("nonlinearity")) nonlinearity = n->s;
  double gain = nonlinearity == "relu" ? std::sqrt(2.0) : nonlinearity == "tanh" ? 5.0 / 3 : nonlinearity == "leaky_relu" ? std::sqrt(2.0 / (1 + a * a)) : 1.0;
  double fan = mode == "fan_out" ? fan_out : fan_in;
  torch::NoGradGuard no_grad;
  auto& gen = c.ctx().gen;
  if (fn == "zeros_") t.zero_();
  else if (fn == "ones_") t.fill_(1);
  else if (fn == "constant_") t.fill_(number(1, "val", 0));
  else if (fn == "normal_") t.normal_(number(1, "mean", 0), number(2, "std", 1), gen);
  else if (fn == "uniform_") t.uniform_(number(1, "a", 0), number(2, "b", 1), gen);
  else if (fn == "trunc_normal_") t.normal_(number(1, "mean", 0), number(2, "std", 1), gen).clamp_(number(3, "a", -2), number(4, "b", 2));
  else if (fn == "kaiming_normal_") t.normal_(0, gain / std::sqrt(std::max(fan, 1.0)), gen);
  else if (fn == "kaiming_uniform_") { double b = gain * std::sqrt(3.0 / std::max(fan, 1.0)); t.uniform_(-b, b, gen); }
  else if (fn == "xavier_uniform_") { double b = number(1, "gain", 1) * std::sqrt(6.0 / double(std::max<int64_t>(fan_in + fan_out, 1))); t.uniform_(-b, b, gen); }
  else if (fn == "xavier_normal_") t.normal_(0, number(1, "gain", 1) * std::sqrt(2.0 / double(std::max<int64_t>(fan_in + fan_out, 1))), gen);
  else if (fn == "orthogonal_") {
    // PyTorch's recipe: QR of a normal (rows x cols) matrix, signs fixed by R's diagonal, times gain
    int64_t rows = t.size(0), cols = t.numel() / std::max<int64_t>(rows, 1);
    at::Tensor flat = at::empty({rows, cols}).normal_(0, 1, gen);
    if (rows < cols) flat = flat.t();
    auto [q, r] = at::linalg_qr(flat);
    q = q * r.diagonal().sign();
    if (rows < cols) q = q.t();
    t.view_as(q).copy_(q * number(1, "gain", 1));
  }
  else fail_at(c.range, "nn.init." + fn + "() is not supported");
  return c.args[0];
}

PyValue torch_builtin(const BuiltinCall& c) {
  const std::string& name = c.name;
  const PyValue& callee = c.callee;
  const PyList& args = c.args;
  const KwArgs& kwargs = c.kwargs;
  const torch::jit::SourceRange& range = c.range;
  static const std::string nn = "torch.nn.";
  if (name.rfind(nn, 0) == 0) {
    std::string layer = name.substr(nn.size());
    if (layer.rfind("init.", 0) == 0) return nn_init(c, layer.substr(5));
    if (layer == "Parameter" || layer == "parameter.Parameter") {
      c.need(1, 2);
      if (!args[0].is_tensor()) fail_at(range, "nn.Parameter(): a tensor is expected");
      return PyValue::of_tensor(args[0].tensor, true);
    }
    if (layer == "Sequential" || layer == "ModuleList" || layer == "ModuleDict") {
      PyList items = layer == "ModuleList" && args.size() == 1 ? c.iterate(args[0]) : args;
      if (auto* modules = c.kwarg("modules")) items = layer == "ModuleList" ? c.iterate(*modules) : PyList{*modules};
      return PyValue::of_module(make_container(layer, items));
    }
    if (layer == "ParameterList" || layer == "ParameterDict") {
      PyList items = args;
      if (auto* values = c.kwarg(layer == "ParameterList" ? "values" : "parameters")) items = {*values};
      return PyValue::of_module(make_parameter_container(layer, items));
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
    // Any other method through LibTorch (script/torch_call.h), its results counted like the factories'.
    std::optional<PyValue> result;
    auto reserve = [&](const PyValue& shapes) {
      if (shapes.is_tensor())
        c.ctx().budget.reserve_elements(double(shapes.tensor.numel()), shapes.tensor.scalar_type(), "Tensor." + method + "()");
    };
    try {
      result = call_tensor_method(t, method, args, kwargs, reserve);
    } catch (const Error& e) {
      fail_at(range, e.what());
    }
    if (!result) fail_at(range, "Tensor." + method + "() is not supported in __init__ with these arguments");
    return *result;
  }
  fail_at(range, "call to '" + name + "' is not supported in __init__");
}

}  // namespace

MLOPT_REGISTER_BUILTINS("torch", {"torch.", "tensor."}, torch_builtin);

}  // namespace mlopt::script
