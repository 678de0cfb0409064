#include "mlopt/script/torch_call.h"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/script.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "mlopt/core/error.h"
#include "mlopt/core/libtorch_cause.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

// One argument as TorchScript sees it: a typed parameter of the generated
// function (with its value), or a literal written into the call (None, dtypes).
struct Argument {
  std::string type;     // empty: `literal` is written into the call
  std::string literal;
  c10::IValue value;
};

std::optional<Argument> list_argument(const PyValue& v) {
  bool ints = true, numbers = true, tensors = true;
  for (const auto& item : *v.items) {
    ints = ints && (item.kind == Kind::Int || item.kind == Kind::Bool);
    numbers = numbers && item.is_number();
    tensors = tensors && item.is_tensor();
  }
  if (v.items->empty() || ints) {
    std::vector<int64_t> out;
    for (const auto& item : *v.items) out.push_back(item.kind == Kind::Bool ? item.b : item.i);
    return Argument{"List[int]", "", c10::IValue(out)};
  }
  if (numbers) {
    std::vector<double> out;
    for (const auto& item : *v.items) out.push_back(item.as_double());
    return Argument{"List[float]", "", c10::IValue(out)};
  }
  if (tensors) {
    std::vector<at::Tensor> out;
    for (const auto& item : *v.items) out.push_back(item.tensor);
    return Argument{"List[Tensor]", "", c10::IValue(out)};
  }
  return std::nullopt;
}

std::optional<Argument> argument(const PyValue& v) {
  switch (v.kind) {
    case Kind::None: return Argument{"", "None", {}};
    case Kind::Bool: return Argument{"bool", "", c10::IValue(v.b)};
    case Kind::Int: return Argument{"int", "", c10::IValue(v.i)};
    case Kind::Float: return Argument{"float", "", c10::IValue(v.f)};
    case Kind::Str: return Argument{"str", "", c10::IValue(v.s)};
    case Kind::Tensor:
    case Kind::Parameter: return Argument{"Tensor", "", c10::IValue(v.tensor)};
    case Kind::List:
    case Kind::Tuple: return list_argument(v);
    case Kind::Callable:  // dtypes and layouts: torch.float32, torch.long, ...
      if (v.s.rfind("torch.", 0) == 0 && v.s.find('(') == std::string::npos) return Argument{"", v.s, {}};
      return std::nullopt;
    default: return std::nullopt;
  }
}

std::optional<PyValue> to_py(const c10::IValue& v) {
  if (v.isTensor()) return PyValue::of_tensor(v.toTensor());
  if (v.isInt()) return PyValue::integer(v.toInt());
  if (v.isDouble()) return PyValue::real(v.toDouble());
  if (v.isBool()) return PyValue::boolean(v.toBool());
  if (v.isTuple() || v.isTensorList() || v.isList()) {
    PyList items;
    auto elements = v.isTuple() ? v.toTupleRef().elements().vec() : v.toListRef().vec();
    for (const auto& e : elements) {
      if (!e.isTensor()) return std::nullopt;
      items.push_back(PyValue::of_tensor(e.toTensor()));
    }
    return v.isTuple() ? PyValue::tuple(items) : PyValue::list(items);
  }
  return std::nullopt;
}

// The same arguments with every tensor moved to the meta device (no storage).
std::vector<c10::IValue> on_meta_device(const std::vector<c10::IValue>& stack) {
  auto meta = [](const at::Tensor& t) { return at::empty(t.sizes(), t.options().device(at::kMeta)); };
  std::vector<c10::IValue> out;
  for (const auto& v : stack) {
    if (v.isTensor()) {
      out.emplace_back(meta(v.toTensor()));
    } else if (v.isTensorList()) {
      std::vector<at::Tensor> list;
      for (const auto& t : v.toTensorVector()) list.push_back(meta(t));
      out.emplace_back(list);
    } else {
      out.push_back(v);
    }
  }
  return out;
}

// Compiled call sites by source: a model's __init__ repeats the same calls.
std::shared_ptr<torch::jit::CompilationUnit> compiled(const std::string& source) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<torch::jit::CompilationUnit>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& cu = cache[source];
  if (!cu) {
    auto unit = std::make_shared<torch::jit::CompilationUnit>();
    unit->define(c10::nullopt, source, torch::jit::nativeResolver(), nullptr);
    cu = unit;
  }
  return cu;
}

}  // namespace

namespace {

// `callee`(args..., key=value...) compiled as `def f(...): return callee(...)`;
// `self`, when given, is the function's first parameter (a Tensor method call).
std::optional<PyValue> run_call(const std::string& callee, const std::string& what, const at::Tensor* self,
                                const PyList& args, const std::vector<std::pair<std::string, PyValue>>& kwargs,
                                const std::function<void(const PyValue&)>& before_running) {
  std::string params, call;
  std::vector<c10::IValue> stack;
  if (self) {
    params = "self_: Tensor";
    stack.push_back(*self);
  }
  auto add = [&](const PyValue& v, const std::string& keyword) {
    auto a = argument(v);
    if (!a) return false;
    std::string text = a->literal;
    if (!a->type.empty()) {
      text = "a" + std::to_string(stack.size());
      params += (params.empty() ? "" : ", ") + text + ": " + a->type;
      stack.push_back(a->value);
    }
    call += (call.empty() ? "" : ", ") + (keyword.empty() ? text : keyword + "=" + text);
    return true;
  };
  for (const auto& v : args)
    if (!add(v, "")) return std::nullopt;
  for (const auto& [key, v] : kwargs)
    if (!add(v, key)) return std::nullopt;
  std::string source = "def f(" + params + "):\n    return " + callee + "(" + call + ")\n";
  torch::jit::Function* compiled_call = nullptr;
  try {
    compiled_call = &compiled(source)->get_function("f");
  } catch (const std::exception& e) {
    fail("{}(): {}", what, libtorch_cause(e.what()));
  }
  auto& function = *compiled_call;
  torch::NoGradGuard no_grad;
  // First on meta tensors (shapes only, nothing allocated), so that the caller
  // can refuse an output too large before it exists; ops without a meta kernel
  // skip this step.
  if (before_running) {
    std::optional<PyValue> shapes;
    try {
      shapes = to_py(function(on_meta_device(stack)));
    } catch (const std::exception&) {
    }
    if (shapes) before_running(*shapes);
  }
  c10::IValue result;
  try {
    result = function(stack);
  } catch (const std::exception& e) {
    fail("{}(): {}", what, libtorch_cause(e.what()));
  }
  return to_py(result);
}

}  // namespace

std::optional<PyValue> call_torch_function(const std::string& name, const PyList& args,
                                           const std::vector<std::pair<std::string, PyValue>>& kwargs,
                                           const std::function<void(const PyValue&)>& before_running) {
  return run_call("torch." + name, "torch." + name, nullptr, args, kwargs, before_running);
}

std::optional<PyValue> call_tensor_method(const at::Tensor& self, const std::string& name, const PyList& args,
                                          const std::vector<std::pair<std::string, PyValue>>& kwargs,
                                          const std::function<void(const PyValue&)>& before_running) {
  return run_call("self_." + name, "Tensor." + name, &self, args, kwargs, before_running);
}

}  // namespace mlopt::script
