#include "mlopt/graph_passes/eval_mode.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

#include "mlopt/graph_passes/graph_walk.h"

namespace mlopt::graph_passes {

namespace {

using c10::ClassType;
using c10::ClassTypePtr;
using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using Object = c10::intrusive_ptr<c10::ivalue::Object>;

bool is_module_object(const c10::IValue& v) { return v.isObject() && v.toObjectRef().type()->is_module(); }

// Forward hooks and properties are methods the copy would have to carry over; such models stay as they are.
bool copyable(const Object& object) {
  const auto& type = object->type();
  if (!type->getForwardHooks().empty() || !type->getForwardPreHooks().empty() || !type->properties().empty())
    return false;
  for (size_t i = 0; i < type->numAttributes(); ++i)
    if (is_module_object(object->getSlot(i)) && !copyable(object->getSlot(i).toObject())) return false;
  return true;
}

// The names any method of the model assigns (`self.x = ...`): those attributes are state, not flags.
void collect_written(const Object& object, std::set<std::string>& written) {
  for (auto* fn : object->type()->methods())
    for_each_node(torch::jit::toGraphFunction(*fn).graph()->block(), [&](Node* n) {
      if (n->kind() == c10::prim::SetAttr) written.insert(n->s(c10::attr::name));
    });
  for (size_t i = 0; i < object->type()->numAttributes(); ++i)
    if (is_module_object(object->getSlot(i))) collect_written(object->getSlot(i).toObject(), written);
}

// A graph copied onto the new class: `self` and every attribute read through a module typed as the copy's.
void retype(Graph& graph, const ClassTypePtr& self_type) {
  graph.inputs().at(0)->setType(self_type);
  for_each_node(graph.block(), [](Node* n) {
    if (n->kind() != c10::prim::GetAttr) return;
    auto owner = n->input(0)->type()->cast<ClassType>();
    if (!owner || !owner->is_module()) return;
    if (auto type = owner->findAttribute(n->s(c10::attr::name))) n->output()->setType(type);
  });
}

// Inlines the function calls that take `value` (a module passes self.training to a scripted function).
void inline_calls_taking(torch::jit::Value* value) {
  std::vector<Node*> calls;
  for (const auto& use : value->uses())
    if (use.user->kind() == c10::prim::CallFunction) calls.push_back(use.user);
  for (auto* call : calls) {
    auto* function = call->input(0)->type()->expect<c10::FunctionType>()->function();
    auto* graph_function = torch::jit::tryToGraphFunction(*function);
    if (!graph_function) continue;
    call->removeInput(0);
    torch::jit::inlineCallTo(call, graph_function);
  }
}

// The bool attributes of `object` that `graph` reads on self, as constants; returns how many reads.
int fold_flags(std::shared_ptr<Graph> graph, const Object& object, const std::set<std::string>& written) {
  std::vector<Node*> reads;
  for (const auto& use : graph->inputs().at(0)->uses()) {
    Node* n = use.user;
    if (n->kind() != c10::prim::GetAttr || written.count(n->s(c10::attr::name))) continue;
    if (n->output()->type()->kind() == c10::TypeKind::BoolType) reads.push_back(n);
  }
  if (reads.empty()) return 0;
  torch::jit::WithInsertPoint at_start(graph->param_node()->next());
  for (auto* read : reads) {
    inline_calls_taking(read->output());
    bool value = object->getAttr(read->s(c10::attr::name)).toBool();
    read->output()->replaceAllUsesWith(graph->insertConstant(value));
    read->destroy();
  }
  torch::jit::ConstantPropagation(graph);
  torch::jit::EliminateDeadCode(graph);
  return static_cast<int>(reads.size());
}

struct Specializer {
  std::shared_ptr<torch::jit::CompilationUnit> cu;
  std::set<std::string> written;
  EvalSpecialization stats;

  Object copy(const Object& source) {
    const auto& old_type = source->type();
    auto type = ClassType::create(cu->mangle(*old_type->name()), cu, /*is_module=*/true);
    cu->register_type(type);
    std::vector<c10::IValue> slots;
    for (size_t i = 0; i < old_type->numAttributes(); ++i) {
      auto value = source->getSlot(i);
      auto attribute_type = old_type->getAttribute(i);
      if (is_module_object(value)) {
        auto child = copy(value.toObject());
        attribute_type = child->type();
        value = child;
      }
      type->addAttribute(old_type->getAttributeName(i), attribute_type, old_type->is_parameter(i),
                         old_type->is_buffer(i));
      slots.push_back(value);
    }
    for (size_t i = 0; i < old_type->numConstants(); ++i)
      type->addConstant(old_type->getConstantName(i), old_type->getConstant(i));
    auto object = c10::ivalue::Object::create(c10::StrongTypePtr(cu, type), slots.size());
    for (size_t i = 0; i < slots.size(); ++i) object->setSlot(i, slots[i]);
    for (auto* fn : old_type->methods()) {
      auto graph = torch::jit::toGraphFunction(*fn).graph()->copy();
      retype(*graph, type);
      stats.folded += fold_flags(graph, object, written);
      type->addMethod(cu->create_function(c10::QualifiedName(*type->name(), fn->name()), graph));
    }
    ++stats.classes;
    return object;
  }
};

}  // namespace

torch::jit::Module specialize_for_eval(const torch::jit::Module& model, EvalSpecialization* stats) {
  auto copy = model.clone();
  copy.eval();
  if (!copyable(copy._ivalue())) return copy;
  Specializer s{copy._ivalue()->compilation_unit()};
  collect_written(copy._ivalue(), s.written);
  torch::jit::Module specialized(s.copy(copy._ivalue()));
  if (stats) *stats = s.stats;
  return specialized;
}

}  // namespace mlopt::graph_passes
