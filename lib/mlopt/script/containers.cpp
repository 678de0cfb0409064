#include "mlopt/script/containers.h"

#include "mlopt/core/error.h"

namespace mlopt::script {

bool is_container(const ModuleObject& module) {
  return !module.user_class && (module.kind == "Sequential" || module.kind == "ModuleList");
}

std::string child_name(const ModuleObject& container, size_t k) {
  return k < container.child_names.size() ? container.child_names[k] : std::to_string(k);
}

std::shared_ptr<ModuleObject> make_container(const std::string& kind, const PyList& items) {
  auto m = std::make_shared<ModuleObject>();
  m->kind = kind;
  if (kind == "Sequential" && items.size() == 1 && items[0].kind == PyValue::Kind::Dict) {
    const auto& keys = *items[0].items;
    const auto& values = *items[0].values;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (keys[k].kind != PyValue::Kind::Str) fail("nn.Sequential: OrderedDict keys must be str, got {}", keys[k].type_name());
      if (values[k].kind != PyValue::Kind::Module) fail("nn.Sequential: '{}' is {}, not a module", keys[k].s, values[k].type_name());
      m->child_names.push_back(keys[k].s);
      m->children.push_back(values[k].module);
    }
    return m;
  }
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
