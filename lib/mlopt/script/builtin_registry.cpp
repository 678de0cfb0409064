#include "mlopt/script/builtin_registry.h"

#include <map>

#include "mlopt/core/error.h"

namespace mlopt::script {

namespace {
// name (or prefix ending in '.') -> the group implementing it
using BuiltinRegistry = Registry<const BuiltinGroup*>;
BuiltinRegistry& names() { return BuiltinRegistry::instance(); }
std::vector<std::unique_ptr<BuiltinGroup>>& groups() {
  static std::vector<std::unique_ptr<BuiltinGroup>> all;
  return all;
}
}  // namespace

BuiltinRegistrar::BuiltinRegistrar(BuiltinGroup group) {
  groups().push_back(std::make_unique<BuiltinGroup>(std::move(group)));
  names().add_all(groups().back()->names, groups().back().get());
}

const BuiltinGroup* find_builtin(const std::string& name) {
  if (auto* group = names().find(name)) return *group;
  // the longest registered prefix ("torch.nn." before "torch.")
  for (size_t dot = name.rfind('.'); dot != std::string::npos && dot > 0; dot = name.rfind('.', dot - 1)) {
    if (auto* group = names().find(name.substr(0, dot + 1))) return *group;
    if (dot == 0) break;
  }
  return nullptr;
}

bool is_bare_builtin(const std::string& name) {
  return names().find(name) && name.find('.') == std::string::npos && name != "noop";
}

void BuiltinCall::need(size_t lo, size_t hi) const {
  if (args.size() < lo || args.size() > hi) fail_at(range, fmt::format("{}() takes {} to {} arguments", name, lo, hi));
}

int64_t BuiltinCall::need_int(const PyValue& v) const {
  if (v.kind == PyValue::Kind::Bool) return int64_t(v.b);
  if (v.kind != PyValue::Kind::Int) fail_at(range, name + "(): expected an int, got " + v.type_name());
  return v.i;
}

const PyValue* BuiltinCall::kwarg(const std::string& key) const {
  for (auto& [k, v] : kwargs)
    if (k == key) return &v;
  return nullptr;
}

int64_t checked_or_fail(std::optional<int64_t> value, const torch::jit::SourceRange& range, const std::string& what) {
  if (!value) fail_at(range, what + ": the result does not fit in a 64-bit integer");
  return *value;
}

}  // namespace mlopt::script
