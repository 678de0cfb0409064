#include "mlopt/script/containers.h"

#include "mlopt/core/error.h"

namespace mlopt::script {

bool is_container(const ModuleObject& module) {
  return !module.user_class && (module.kind == "Sequential" || module.kind == "ModuleList");
}

std::shared_ptr<ModuleObject> make_container(const std::string& kind, const PyList& items) {
  auto m = std::make_shared<ModuleObject>();
  m->kind = kind;
  for (auto& item : items) {
    if (item.kind != PyValue::Kind::Module) fail("nn.{}: expected modules, got {}", kind, item.type_name());
    m->children.push_back(item.module);
  }
  return m;
}

torch::jit::Module build_container(const ModuleObject& container, const std::vector<torch::jit::Module>& children,
                                   LayerContext& ctx) {
  auto m = new_module(ctx, "torch.nn.modules.container." + container.kind);
  for (size_t k = 0; k < children.size(); ++k) m.register_module(std::to_string(k), children[k]);
  if (container.kind == "Sequential") {
    // Chains forward calls (TorchScript in C++ has no module __call__).
    std::string source = "def forward(self, input):\n";
    for (size_t k = 0; k < children.size(); ++k)
      source += fmt::format("    input = getattr(self, \"{}\").forward(input)\n", k);
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
