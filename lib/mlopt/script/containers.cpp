#include "mlopt/script/containers.h"

#include "mlopt/core/error.h"

namespace mlopt::script {

bool is_container(const ModuleObject& module) {
  return !module.user_class && (module.kind == "Sequential" || module.kind == "ModuleList" || module.kind == "ModuleDict");
}

bool is_parameter_container(const ModuleObject& module) {
  return !module.user_class && (module.kind == "ParameterList" || module.kind == "ParameterDict");
}

namespace {
// A dict, or a list of (key, value) pairs, as keys and values.
bool named_items(const PyList& items, std::vector<PyValue>& keys, std::vector<PyValue>& values, const std::string& kind) {
  if (items.size() == 1 && items[0].kind == PyValue::Kind::Dict) {
    keys = *items[0].items;
    values = *items[0].values;
    return true;
  }
  if (items.size() == 1 && items[0].is_sequence()) {
    for (auto& pair : *items[0].items) {
      if (!pair.is_sequence() || pair.items->size() != 2) fail("nn.{}: expected (name, value) pairs", kind);
      keys.push_back((*pair.items)[0]);
      values.push_back((*pair.items)[1]);
    }
    return true;
  }
  return false;
}
}  // namespace

std::shared_ptr<ModuleObject> make_parameter_container(const std::string& kind, const PyList& items) {
  auto m = std::make_shared<ModuleObject>();
  m->kind = kind;
  std::vector<PyValue> keys, values;
  if (kind == "ParameterDict") {
    if (!items.empty() && !named_items(items, keys, values, kind)) fail("nn.ParameterDict: expected a dict of parameters");
  } else if (items.size() == 1) {
    if (!items[0].is_sequence()) fail("nn.ParameterList: expected a list of parameters");
    values = *items[0].items;
    for (size_t k = 0; k < values.size(); ++k) keys.push_back(PyValue::str(std::to_string(k)));
  }
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k].kind != PyValue::Kind::Str) fail("nn.{}: keys must be str, got {}", kind, keys[k].type_name());
    if (!values[k].is_tensor()) fail("nn.{}: '{}' is {}, not a parameter", kind, keys[k].s, values[k].type_name());
    m->members.emplace_back(keys[k].s, PyValue::of_tensor(values[k].tensor, true));
  }
  return m;
}

torch::jit::Module build_parameter_container(const ModuleObject& container, LayerContext& ctx) {
  auto m = new_module(ctx, "torch.nn.modules.container." + container.kind);
  for (auto& [name, value] : container.members) m.register_parameter(name, value.tensor, false);
  return m;
}

std::string child_name(const ModuleObject& container, size_t k) {
  return k < container.child_names.size() ? container.child_names[k] : std::to_string(k);
}

std::shared_ptr<ModuleObject> make_container(const std::string& kind, const PyList& items) {
  auto m = std::make_shared<ModuleObject>();
  m->kind = kind;
  std::vector<PyValue> keys, values;
  if ((kind == "Sequential" && items.size() == 1 && items[0].kind == PyValue::Kind::Dict) ||
      (kind == "ModuleDict" && named_items(items, keys, values, kind))) {
    if (kind == "Sequential") keys = *items[0].items, values = *items[0].values;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (keys[k].kind != PyValue::Kind::Str) fail("nn.{}: keys must be str, got {}", kind, keys[k].type_name());
      if (values[k].kind != PyValue::Kind::Module) fail("nn.{}: '{}' is {}, not a module", kind, keys[k].s, values[k].type_name());
      m->child_names.push_back(keys[k].s);
      m->children.push_back(values[k].module);
    }
    return m;
  }
  if (kind == "ModuleDict" && !items.empty()) fail("nn.ModuleDict: expected a dict of modules");
  for (auto& item : items) {
    if (item.kind != PyValue::Kind::Module) fail("nn.{}: expected modules, got {}", kind, item.type_name());
    m->children.push_back(item.module);
  }
  return m;
}

torch::jit::Module build_container(const ModuleObject& container, const std::vector<torch::jit::Module>& children,
                                   LayerContext& ctx) {
  auto m = new_module(ctx, "torch.nn.modules.container." + container.kind);
  for (size_t k = 0; k < children.size(); ++k) m.register_module(child_name(container, k), children[k]);
  if (container.kind == "Sequential") {
    // Chains forward calls (TorchScript in C++ has no module __call__).
    std::string source = "def forward(self, input):\n";
    for (size_t k = 0; k < children.size(); ++k)
      source += fmt::format("    input = getattr(self, \"{}\").forward(input)\n", child_name(container, k));
    source += "    return input\n";
    try {
      m.define(source);
    } catch (const std::exception& e) {
      fail("nn.Sequential: its layers cannot be chained: {}", first_line(e.what()));
    }
  }
  return m;
}

}  // namespace mlopt::script
