#include "mlopt/onnx/module_state.h"

#include <vector>

#include "mlopt/core/log.h"

namespace mlopt::onnx_export {
namespace {

using torch::jit::Node;

bool is_module_attribute(const Node* node, c10::Symbol kind) {
  if (node->kind() != kind) return false;
  auto type = node->input(0)->type()->cast<c10::ClassType>();
  return type && type->is_module();
}

// Whether `v` only decides branches that compute nothing (SSD's warn-once flag:
// `if not self._has_warned: warn(...)`), through `not`.
bool only_decides_side_effects(const torch::jit::Value* v) {
  for (const auto& use : v->uses()) {
    const Node* user = use.user;
    if (user->kind() == c10::aten::__not__ && only_decides_side_effects(user->output())) continue;
    if (user->kind() == c10::prim::If && user->outputs().empty()) continue;
    return false;
  }
  return true;
}

// The value a module attribute read (a chain of GetAttr from `self`) has now.
c10::IValue value_now(const torch::jit::Module& module, const torch::jit::Value* v) {
  std::vector<std::string> path;
  for (; v->node()->kind() == c10::prim::GetAttr; v = v->node()->input(0)) path.push_back(v->node()->s(c10::attr::name));
  c10::IValue value = module._ivalue();
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if (!value.isObject()) return c10::IValue();
    value = value.toObject()->getAttr(*it);
  }
  return value;
}

struct StateReads {
  std::set<std::string> written, read_first;
};

// Module attributes that forward reads before it writes them, in program
// order, where the value read can change what forward computes: not a cache
// still empty (None) that forward fills first (torchvision's pooler scales),
// not a flag that only decides whether to warn.
void collect_state_reads(const torch::jit::Module& module, torch::jit::Block* block, StateReads& reads) {
  for (Node* node : block->nodes()) {
    if (is_module_attribute(node, c10::prim::GetAttr) && !reads.written.count(node->s(c10::attr::name)) &&
        !only_decides_side_effects(node->output()) && !value_now(module, node->output()).isNone())
      reads.read_first.insert(node->s(c10::attr::name));
    for (auto* sub : node->blocks()) collect_state_reads(module, sub, reads);
    if (is_module_attribute(node, c10::prim::SetAttr)) reads.written.insert(node->s(c10::attr::name));
  }
}

// Equal values: tensors element by element, containers and objects item by item.
bool same_value(const c10::IValue& a, const c10::IValue& b, int depth = 0) {
  if (depth > 8) return false;
  if (a.isTensor() && b.isTensor()) {
    const auto &x = a.toTensor(), &y = b.toTensor();
    if (!x.defined() || !y.defined()) return x.defined() == y.defined();
    if (!x.sizes().equals(y.sizes()) || x.scalar_type() != y.scalar_type()) return false;
    return x.is_meta() || y.is_meta() || at::equal(x, y);  // a meta probe's writes have no values to compare
  }
  if (a.isList() && b.isList()) {
    auto x = a.toListRef(), y = b.toListRef();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!same_value(x[i], y[i], depth + 1)) return false;
    return true;
  }
  if (a.isTuple() && b.isTuple()) {
    const auto &x = a.toTupleRef().elements(), &y = b.toTupleRef().elements();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!same_value(x[i], y[i], depth + 1)) return false;
    return true;
  }
  if (a.isObject() && b.isObject()) {
    auto x = a.toObject(), y = b.toObject();
    if (x->type()->name() != y->type()->name() || x->slots().size() != y->slots().size()) return false;
    for (size_t i = 0; i < x->slots().size(); ++i)
      if (!same_value(x->getSlot(i), y->getSlot(i), depth + 1)) return false;
    return true;
  }
  if (a.isNone() || b.isNone()) return a.isNone() && b.isNone();
  if (a.isInt() && b.isInt()) return a.toInt() == b.toInt();
  if (a.isDouble() && b.isDouble()) return a.toDouble() == b.toDouble();
  if (a.isBool() && b.isBool()) return a.toBool() == b.toBool();
  if (a.isString() && b.isString()) return a.toStringRef() == b.toStringRef();
  return false;
}

}  // namespace

std::set<std::string> attributes_read_before_written(const torch::jit::Module& module, torch::jit::Graph& graph) {
  StateReads reads;
  collect_state_reads(module, graph.block(), reads);
  std::set<std::string> out;
  for (const auto& name : reads.read_first)
    if (reads.written.count(name)) out.insert(name);
  return out;
}

void warn_about_module_state(const std::set<std::string>& reads, const ModuleWrites& writes) {
  std::set<std::string> warned;
  for (const auto& [key, value] : writes) {
    const auto& [object, name] = key;
    if (!reads.count(name) || warned.count(name)) continue;
    auto slot = object->type()->findAttributeSlot(name);
    if (slot && same_value(object->getSlot(*slot), value)) continue;
    warned.insert(name);
    log::warn("export-onnx: forward reads and changes the module attribute '{}'; the exported graph keeps no "
              "state between runs and reads its value at export time",
              name);
  }
}

}  // namespace mlopt::onnx_export
