#pragma once
// Python values as the __init__ evaluator sees them: scalars, strings,
// containers, tensors, parameters, modules under construction, and callables
// (builtins such as nn.Linear or range, user classes and functions).
#include <torch/script.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlopt::script {

struct ModuleObject;
struct PyValue;
using PyList = std::vector<PyValue>;

struct PyValue {
  enum class Kind { None, Bool, Int, Float, Str, List, Tuple, Dict, Tensor, Parameter, Module, Callable };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                        // Str text; Callable: dotted name ("nn.Linear", "range", "MyBlock")
  std::shared_ptr<PyList> items;        // List/Tuple items; Dict keys
  std::shared_ptr<PyList> values;       // Dict values
  at::Tensor tensor;                    // Tensor/Parameter
  std::shared_ptr<ModuleObject> module; // Module; Callable bound to a module (self.layers.append)
  std::shared_ptr<PyValue> bound;       // Callable bound to a value (list.append)

  PyValue() = default;
  PyValue(const PyValue&) = default;
  PyValue(PyValue&&) noexcept = default;
  PyValue& operator=(const PyValue&) = default;
  PyValue& operator=(PyValue&&) noexcept = default;
  // Frees nested lists with a worklist, not recursively: a list nested a million
  // levels deep (which __init__'s step budget allows) must not overflow the stack.
  ~PyValue();

  static PyValue none() { return {}; }
  static PyValue boolean(bool v) { PyValue r; r.kind = Kind::Bool; r.b = v; return r; }
  static PyValue integer(int64_t v) { PyValue r; r.kind = Kind::Int; r.i = v; return r; }
  static PyValue real(double v) { PyValue r; r.kind = Kind::Float; r.f = v; return r; }
  static PyValue str(std::string v) { PyValue r; r.kind = Kind::Str; r.s = std::move(v); return r; }
  static PyValue list(PyList v, Kind kind = Kind::List) {
    PyValue r; r.kind = kind; r.items = std::make_shared<PyList>(std::move(v)); return r;
  }
  static PyValue tuple(PyList v) { return list(std::move(v), Kind::Tuple); }
  static PyValue of_tensor(at::Tensor t, bool parameter = false) {
    PyValue r; r.kind = parameter ? Kind::Parameter : Kind::Tensor; r.tensor = std::move(t); return r;
  }
  static PyValue of_module(std::shared_ptr<ModuleObject> m) { PyValue r; r.kind = Kind::Module; r.module = std::move(m); return r; }
  static PyValue callable(std::string name) { PyValue r; r.kind = Kind::Callable; r.s = std::move(name); return r; }

  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  bool is_sequence() const { return kind == Kind::List || kind == Kind::Tuple; }
  bool is_tensor() const { return kind == Kind::Tensor || kind == Kind::Parameter; }
  double as_double() const { return kind == Kind::Float ? f : kind == Kind::Int ? double(i) : double(b); }
  // Python's name for the kind ("int", "list", "Linear" ...), for messages.
  std::string type_name() const;
  // repr() of scalars and containers (used to bake constants into TorchScript source).
  std::string repr() const;
};

// A module under construction. Standard layers are built at once; containers
// and user classes collect their members and are built when first needed.
struct ModuleObject {
  std::string kind;                                      // "Linear", "Sequential", "ModuleList", user class name
  bool user_class = false;
  std::vector<std::pair<std::string, PyValue>> members;  // self.x = ... in order (user classes); layer arguments
  std::vector<std::pair<std::string, at::Tensor>> buffers;  // register_buffer (user classes)
  std::vector<std::shared_ptr<ModuleObject>> children;   // Sequential / ModuleList items
  std::vector<std::string> child_names;                  // Sequential(OrderedDict(...)): their names
  std::optional<torch::jit::Module> built;

  const PyValue* member(const std::string& name) const {
    for (auto it = members.rbegin(); it != members.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }
  void set_member(const std::string& name, PyValue value) {
    for (auto& m : members)
      if (m.first == name) { m.second = std::move(value); return; }
    members.emplace_back(name, std::move(value));
  }
};

// Parses a Python literal (int, float, bool, None, 'str', [..], (..)) as given to --init.
std::optional<PyValue> parse_python_literal(const std::string& text);

}  // namespace mlopt::script
