#include "mlopt/script/value_graph.h"

#include <unordered_set>
#include <utility>
#include <vector>

namespace mlopt::script {

using Kind = PyValue::Kind;

const void* container_identity(const PyValue& value) {
  if (value.kind == Kind::Module) return value.module.get();
  if (value.is_sequence() || value.kind == Kind::Dict) return value.items.get();
  return nullptr;
}

namespace {

// Calls visit(child) for each value directly held by `value`.
template <typename F>
void for_each_child(const PyValue& value, F&& visit) {
  if (value.is_sequence() || value.kind == Kind::Dict) {
    for (auto& v : *value.items) visit(v);
    if (value.values)
      for (auto& v : *value.values) visit(v);
  } else if (value.kind == Kind::Module && value.module) {
    for (auto& [name, v] : value.module->members) visit(v);
    for (auto& child : value.module->children) visit(PyValue::of_module(child));
  }
}

}  // namespace

bool holds(const PyValue& value, const void* target) {
  if (!target) return false;
  std::vector<PyValue> stack{value};
  std::unordered_set<const void*> seen;
  while (!stack.empty()) {
    PyValue v = std::move(stack.back());
    stack.pop_back();
    const void* id = container_identity(v);
    if (!id) continue;
    if (id == target) return true;
    if (!seen.insert(id).second) continue;
    for_each_child(v, [&](const PyValue& child) {
      if (container_identity(child)) stack.push_back(child);
    });
  }
  return false;
}

int nesting_depth(const PyValue& value) {
  int deepest = 0;
  std::vector<std::pair<PyValue, int>> stack{{value, 0}};
  std::unordered_set<const void*> seen;
  while (!stack.empty()) {
    auto [v, depth] = std::move(stack.back());
    stack.pop_back();
    const void* id = container_identity(v);
    if (!id) continue;
    deepest = std::max(deepest, depth + 1);
    if (deepest > kMaxValueNesting) return deepest;
    if (!seen.insert(id).second) continue;
    for_each_child(v, [&](const PyValue& child) {
      if (container_identity(child)) stack.emplace_back(child, depth + 1);
    });
  }
  return deepest;
}

}  // namespace mlopt::script
