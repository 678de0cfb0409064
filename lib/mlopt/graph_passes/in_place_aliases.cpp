#include "mlopt/graph_passes/in_place_aliases.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

#include "mlopt/graph_passes/graph_walk.h"

namespace mlopt::graph_passes {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

// The node writes its first argument and returns it (`Tensor(a!) self -> Tensor(a!)`).
bool writes_and_returns_first_input(const Node* node) {
  const auto* schema = node->maybeSchema();
  if (!schema || schema->arguments().empty() || schema->returns().size() != 1) return false;
  const auto* written = schema->arguments()[0].alias_info();
  const auto* returned = schema->returns()[0].alias_info();
  return written && written->isWrite() && returned && returned->beforeSets() == written->beforeSets();
}

// Which argument (its index among the graph's inputs) forward returns, itself
// or written in place; -1 when it returns something else.
int returned_argument(const Graph& graph) {
  if (graph.outputs().size() != 1) return -1;
  const Value* out = graph.outputs()[0];
  while (out->node()->kind() != c10::prim::Param && writes_and_returns_first_input(out->node()))
    out = out->node()->input(0);
  return out->node()->kind() == c10::prim::Param ? static_cast<int>(out->offset()) : -1;
}

// `node` returns the same tensor as its input `index` (after writing it, maybe).
int aliased_input(const Node* node) {
  if (writes_and_returns_first_input(node)) return 0;
  if (node->kind() != c10::prim::CallMethod || node->s(c10::attr::name) != "forward" || node->outputs().size() != 1)
    return -1;
  auto type = node->input(0)->type()->cast<c10::ClassType>();
  auto* method = type ? type->findMethod("forward") : nullptr;
  auto* function = method ? torch::jit::tryToGraphFunction(*method) : nullptr;
  return function ? returned_argument(*function->graph()) : -1;
}

// `user` comes after `node` in node's block (or inside a later node of it).
bool later_in_block(const Node* user, const Node* node) {
  const Node* n = user;
  while (n && n->owningBlock() != node->owningBlock()) n = n->owningBlock()->owningNode();
  return n && n != node && node->isBefore(n);
}

int rewire(Graph& graph) {
  int reads = 0;
  for_each_node(graph.block(), [&](Node* node) {
    const int index = aliased_input(node);
    if (index < 0 || static_cast<size_t>(index) >= node->inputs().size()) return;
    Value* input = node->input(index);
    if (!input->type()->cast<c10::TensorType>()) return;
    std::vector<torch::jit::Use> later;
    for (const auto& use : input->uses())
      if (later_in_block(use.user, node)) later.push_back(use);
    for (const auto& use : later) use.user->replaceInput(use.offset, node->output());
    reads += static_cast<int>(later.size());
  });
  return reads;
}

}  // namespace

int read_in_place_results(torch::jit::Module& module) {
  int reads = 0;
  for (const auto& graph : method_graphs(module)) reads += rewire(*graph);
  return reads;
}

}  // namespace mlopt::graph_passes
