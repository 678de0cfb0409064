#include "mlopt/prune/graph_prep.h"

#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/interpreter.h>

#include <functional>

#include "mlopt/core/error.h"

namespace mlopt::pruning {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

std::optional<std::string> attribute_path(const Value* value) {
  std::vector<std::string> names;
  const Value* v = value;
  while (v->node()->kind() == c10::prim::GetAttr) {
    names.push_back(v->node()->s(c10::attr::name));
    v = v->node()->input(0);
  }
  // The chain must start at the graph's first input (self).
  if (names.empty() || v->node()->kind() != c10::prim::Param || v->offset() != 0) return std::nullopt;
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) path += (path.empty() ? "" : ".") + *it;
  return path;
}

namespace {

// The IValue a GetAttr chain reads, or nullopt when the chain does not start at self.
std::optional<c10::IValue> resolve_attribute(const torch::jit::Module& module, const Value* value) {
  auto path = attribute_path(value);
  if (!path) return std::nullopt;
  c10::IValue current = module._ivalue();
  size_t start = 0;
  while (start <= path->size()) {
    size_t dot = path->find('.', start);
    std::string name = path->substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!current.isObject()) return std::nullopt;
    auto object = current.toObject();
    if (!object->type()->hasAttribute(name)) return std::nullopt;
    current = object->getAttr(name);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return current;
}

bool is_foldable(const c10::IValue& v) {
  return v.isNone() || v.isBool() || v.isInt() || v.isDouble() || v.isString() || v.isIntList() ||
         v.isDoubleList() || v.isBoolList();
}

void fold_attributes(const torch::jit::Module& module, Block* block, Graph& graph) {
  for (auto it = block->nodes().begin(); it != block->nodes().end(); ++it) {
    Node* node = *it;
    for (Block* sub : node->blocks()) fold_attributes(module, sub, graph);
    if (node->kind() != c10::prim::GetAttr || node->s(c10::attr::name) == "training") continue;
    auto type = node->output()->type();
    if (type->kind() == c10::TypeKind::ClassType || type->kind() == c10::TypeKind::TensorType) continue;
    auto value = resolve_attribute(module, node->output());
    if (!value || !is_foldable(*value)) continue;
    torch::jit::WithInsertPoint guard(node);
    auto constant = graph.insertConstant(*value);
    // A None keeps its own type (NoneType): typed Optional[Tensor], later passes
    // (freezing's conv/BatchNorm folding) read the bias as a tensor and fail.
    // Other values take the attribute's declared type (an empty list's element
    // type), without an Optional around it: a constant typed `float[]?` is one
    // LibTorch's constant propagation cannot read (torchvision's
    // GeneralizedRCNNTransform keeps its image mean and std so).
    auto declared = node->output()->type();
    if (auto optional = declared->cast<c10::OptionalType>()) declared = optional->getElementType();
    if (!value->isNone()) constant->setType(declared);
    node->output()->replaceAllUsesWith(constant);
  }
}

}  // namespace

std::shared_ptr<Graph> inline_and_fold_forward(torch::jit::Module& module) {
  auto graph = with_context("reading the model's forward graph", [&] { return module.get_method("forward").graph(); });
  torch::jit::Inline(*graph);
  fold_forward(module, graph);
  return graph;
}

void fold_forward(const torch::jit::Module& module, const std::shared_ptr<Graph>& graph) {
  fold_attributes(module, graph->block(), *graph);
  auto g = graph;
  torch::jit::ConstantPropagation(g);
  // `features.append(layer(features))` (DenseNet's blocks) becomes a new list at each
  // append, so that every aten::cat reads a ListConstruct of what it concatenates.
  torch::jit::RemoveListMutation(g);
  torch::jit::EliminateDeadCode(g);
}

void separate_linear_inputs_from_ifs(Graph& graph) {
  std::vector<Node*> linears;
  std::function<void(Block*)> collect = [&](Block* block) {
    for (Node* node : block->nodes()) {
      for (Block* sub : node->blocks()) collect(sub);
      if (node->kind() == c10::aten::linear && node->input(0)->node()->kind() == c10::prim::If &&
          node->input(0)->node()->outputs().size() > 1)
        linears.push_back(node);
    }
  };
  collect(graph.block());
  for (Node* linear : linears) {
    torch::jit::WithInsertPoint guard(linear);
    linear->replaceInput(0, graph.insert(c10::aten::contiguous, {linear->input(0)}));
  }
}

ShapeMap probe_shapes(torch::jit::Module& module, const std::shared_ptr<Graph>& graph,
                      const std::vector<at::Tensor>& inputs) {
  // A copy whose outputs are every top-level tensor value, in node order.
  std::unordered_map<Value*, Value*> copy_to_original;
  auto probe = std::make_shared<Graph>();
  std::unordered_map<Value*, Value*> value_map;
  for (Value* input : graph->inputs()) {
    Value* copy = probe->addInput()->copyMetadata(input);
    value_map[input] = copy;
  }
  auto env = [&](Value* v) { return value_map.at(v); };
  std::vector<std::pair<Value*, Value*>> observed;  // (original, copy)
  for (Node* node : graph->nodes()) {
    Node* copy = probe->insertNode(probe->createClone(node, env));
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      value_map[node->output(i)] = copy->output(i);
      if (node->output(i)->type()->kind() == c10::TypeKind::TensorType) observed.emplace_back(node->output(i), copy->output(i));
    }
  }
  for (Value* input : graph->inputs())
    if (input->type()->kind() == c10::TypeKind::TensorType) observed.emplace_back(input, value_map[input]);
  std::vector<Value*> outputs;
  for (auto& [original, copy] : observed) outputs.push_back(copy);
  probe->registerOutput(probe->insertNode(probe->createTuple(outputs))->output());

  torch::jit::Stack stack;
  stack.emplace_back(module._ivalue());
  for (const auto& t : inputs) stack.emplace_back(t);
  if (stack.size() != graph->inputs().size())
    fail("the model's forward takes {} inputs but {} --input specs were given", graph->inputs().size() - 1,
         inputs.size());
  with_context("running the model on the example inputs", [&] {
    torch::NoGradGuard no_grad;
    torch::jit::Code code(probe, "prune_shape_probe");
    torch::jit::InterpreterState(code).run(stack);
  });
  ShapeMap shapes;
  auto values = stack.back().toTupleRef().elements();
  for (size_t i = 0; i < observed.size(); ++i)
    if (values[i].isTensor()) shapes[observed[i].first] = values[i].toTensor().sizes().vec();
  return shapes;
}

}  // namespace mlopt::pruning
