// Methods of modules under construction: register_buffer, add_module, ModuleList.append ...
#include <algorithm>
#include <cmath>
#include <functional>
#include "mlopt/script/containers.h"
#include "mlopt/core/error.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/checked_int.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

PyValue module_method(const BuiltinCall& c) {
  const std::string& name = c.name;
  const PyValue& callee = c.callee;
  const PyList& args = c.args;
  const KwArgs& kwargs = c.kwargs;
  const torch::jit::SourceRange& range = c.range;
  if (name == "module.register_buffer" || name == "module.register_parameter" || name == "module.add_module") {
    c.need(2, 3);
    if (args[0].kind != Kind::Str) fail_at(range, name.substr(7) + "(): name must be a string");
    auto& m = *callee.module;
    if (!m.user_class) fail_at(range, name.substr(7) + "() is supported on user modules only");
    if (name == "module.register_buffer") {
      if (args[1].kind == Kind::None) return PyValue::none();
      if (!args[1].is_tensor()) fail_at(range, "register_buffer(): a tensor is expected");
      bool persistent = true;
      if (auto* p = c.kwarg("persistent")) persistent = truthy(*p);
      if (args.size() > 2) persistent = truthy(args[2]);
      if (!persistent) fail_at(range, "register_buffer(persistent=False) is not supported");
      m.buffers.emplace_back(args[0].s, args[1].tensor);
      return PyValue::none();
    }
    if (name == "module.register_parameter" && args[1].kind != Kind::Parameter)
      fail_at(range, "register_parameter(): an nn.Parameter is expected");
    if (name == "module.add_module" && args[1].kind != Kind::Module) fail_at(range, "add_module(): a module is expected");
    c.check_insert(PyValue::of_module(callee.module), args[1]);
    m.set_member(args[0].s, args[1]);
    return PyValue::none();
  }
  if (name == "module.append" || name == "module.extend" || name == "module.insert") {
    auto& m = *callee.module;
    if (!is_container(m)) fail_at(range, name.substr(7) + "() needs an nn.ModuleList or nn.Sequential");
    PyList items = name == "module.extend" ? c.iterate(args.at(0)) : PyList{args.at(name == "module.insert" ? 1 : 0)};
    size_t at = name == "module.insert" ? size_t(std::clamp<int64_t>(c.need_int(args[0]), 0, m.children.size())) : m.children.size();
    c.check_elements(m.children.size() + items.size(), m.kind);
    for (auto& v : items) {
      if (v.kind != Kind::Module) fail_at(range, m.kind + " holds modules only, got " + v.type_name());
      c.check_insert(PyValue::of_module(callee.module), v);
      m.children.insert(m.children.begin() + at++, v.module);
    }
    return PyValue::none();
  }
  if (name == "module.items" || name == "module.keys" || name == "module.values") {
    // ModuleDict / ParameterDict views, in insertion order
    auto& m = *callee.module;
    PyList keys, values;
    if (is_container(m))
      for (size_t k = 0; k < m.children.size(); ++k)
        keys.push_back(PyValue::str(child_name(m, k))), values.push_back(PyValue::of_module(m.children[k]));
    else if (is_parameter_container(m))
      for (auto& [n, v] : m.members) keys.push_back(PyValue::str(n)), values.push_back(v);
    else
      fail_at(range, name.substr(7) + "() needs an nn.ModuleDict or nn.ParameterDict");
    if (name == "module.keys") return PyValue::list(keys);
    if (name == "module.values") return PyValue::list(values);
    PyList items;
    for (size_t k = 0; k < keys.size(); ++k) items.push_back(PyValue::tuple({keys[k], values[k]}));
    return PyValue::list(items);
  }
  if (name == "module.modules" || name == "module.children" || name == "module.parameters") {
    // in PyTorch's order: self first, then members (and container children) depth first
    PyList out;
    std::function<void(const std::shared_ptr<ModuleObject>&, bool)> walk = [&](const std::shared_ptr<ModuleObject>& m,
                                                                                 bool recurse) {
      std::vector<std::shared_ptr<ModuleObject>> kids;
      for (auto& [n, v] : m->members)
        if (v.kind == Kind::Module && m->user_class) kids.push_back(v.module);
        else if (v.kind == Kind::Parameter && name == "module.parameters") out.push_back(v);
      if (name == "module.parameters" && m->built)
        for (const auto& p : m->built->named_parameters(false)) out.push_back(PyValue::of_tensor(p.value, true));
      for (auto& child : m->children) kids.push_back(child);
      for (auto& kid : kids) {
        if (name != "module.parameters") out.push_back(PyValue::of_module(kid));
        if (recurse) walk(kid, true);
      }
    };
    if (name == "module.modules") out.push_back(PyValue::of_module(callee.module));
    walk(callee.module, name != "module.children");
    return PyValue::list(out);
  }
  if (name == "module.update") {
    c.need(1, 1);
    auto& m = *callee.module;
    if (m.kind != "ModuleDict" || m.user_class) fail_at(range, "update() needs an nn.ModuleDict");
    auto more = make_container("ModuleDict", args);
    for (size_t k = 0; k < more->children.size(); ++k) {
      c.check_insert(PyValue::of_module(callee.module), PyValue::of_module(more->children[k]));
      m.child_names.resize(m.children.size());
      m.child_names.push_back(more->child_names[k]);
      m.children.push_back(more->children[k]);
    }
    return PyValue::none();
  }
  fail_at(range, "call to '" + name + "' is not supported in __init__");
}

}  // namespace

MLOPT_REGISTER_BUILTINS("module", {"module.register_buffer", "module.register_parameter", "module.add_module", "module.append", "module.extend", "module.insert", "module.items", "module.keys", "module.values", "module.update", "module.modules", "module.children", "module.parameters"}, module_method);

}  // namespace mlopt::script
