#include "mlopt/graph_passes/silu_decomposition.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mlopt/graph_passes/graph_walk.h"
#include "mlopt/graph_passes/in_place_aliases.h"

namespace mlopt::graph_passes {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

bool is_silu(const Node* n) { return n->kind() == c10::aten::silu || n->kind() == c10::aten::silu_; }

torch::jit::GraphFunction* called_function(const Node* call) {
  auto* function = call->input(0)->type()->expect<c10::FunctionType>()->function();
  return torch::jit::tryToGraphFunction(*function);
}

// `graph` or a scripted function it calls runs a SiLU (F.silu is such a function).
bool runs_silu(Graph& graph) {
  bool found = false;
  for_each_node(graph.block(), [&](Node* n) {
    if (found) return;
    if (is_silu(n)) found = true;
    if (n->kind() == c10::prim::CallFunction)
      if (auto* f = called_function(n)) found = runs_silu(*f->graph());
  });
  return found;
}

// Inlines the function calls that run a SiLU, so that the rewrite sees it
// (and the `if inplace` inside F.silu folds).
void inline_silu_functions(std::shared_ptr<Graph> graph) {
  for (bool changed = true; changed;) {
    std::vector<Node*> calls;
    for_each_node(graph->block(), [&](Node* n) {
      if (n->kind() == c10::prim::CallFunction && called_function(n) && runs_silu(*called_function(n)->graph()))
        calls.push_back(n);
    });
    for (auto* call : calls) {
      auto* function = called_function(call);
      call->removeInput(0);
      torch::jit::inlineCallTo(call, function);
    }
    changed = !calls.empty();
  }
  torch::jit::ConstantPropagation(graph);
  torch::jit::EliminateDeadCode(graph);
}

// The calls of each module class's forward, by the class's name.
std::map<std::string, std::vector<Node*>> forward_calls(const std::vector<std::shared_ptr<Graph>>& graphs) {
  std::map<std::string, std::vector<Node*>> calls;
  for (const auto& graph : graphs)
    for_each_node(graph->block(), [&](Node* n) {
      if (n->kind() != c10::prim::CallMethod || n->s(c10::attr::name) != "forward") return;
      if (auto type = n->input(0)->type()->cast<c10::ClassType>()) calls[type->name()->qualifiedName()].push_back(n);
    });
  return calls;
}

// Nothing reads `v` after `node` (in the same block as v's definition, where node is).
bool not_read_after(const Value* v, const Node* node) {
  if (v->node()->owningBlock() != node->owningBlock()) return false;  // a loop body would read it again
  for (const auto& use : v->uses())
    if (use.user != node && !use.user->isBefore(node)) return false;
  return true;
}

// An in-place SiLU on `x` may become out of place: nothing reads x after it,
// and where x is an argument of forward, no caller reads what it passed after
// the call (the root's forward, called by the user, is free to leave its input as it was).
bool may_write_out_of_place(const Node* silu, const Graph& graph, const std::string& class_name,
                            const std::map<std::string, std::vector<Node*>>& calls) {
  const Value* x = silu->input(0);
  if (x->node()->kind() != c10::prim::Param) return not_read_after(x, silu);
  if (silu->owningBlock() != graph.block()) return false;
  for (const auto& use : x->uses())
    if (use.user != silu && !use.user->isBefore(silu)) return false;
  auto it = calls.find(class_name);
  if (it == calls.end()) return true;
  for (const Node* call : it->second) {
    const Value* passed = call->input(x->offset());
    if (passed->node()->kind() == c10::prim::Param || !not_read_after(passed, call)) return false;
  }
  return true;
}

}  // namespace

int decompose_silu(torch::jit::Module& module) {
  auto graphs = method_graphs(module);
  for (const auto& graph : graphs) inline_silu_functions(graph);
  read_in_place_results(module);  // F.silu(x, inplace=True) is visible only now
  auto calls = forward_calls(graphs);
  static const auto sigmoid = c10::Symbol::fromQualString("aten::sigmoid");
  static const auto mul = c10::Symbol::fromQualString("aten::mul");
  int rewritten = 0;
  for (const auto& graph : graphs) {
    const auto class_name = graph->inputs().at(0)->type()->cast<c10::ClassType>()
                                ? graph->inputs().at(0)->type()->expect<c10::ClassType>()->name()->qualifiedName()
                                : std::string();
    std::vector<Node*> found;
    for_each_node(graph->block(), [&](Node* n) {
      if (n->inputs().size() != 1) return;
      if (n->kind() == c10::aten::silu || (n->kind() == c10::aten::silu_ && may_write_out_of_place(n, *graph, class_name, calls)))
        found.push_back(n);
    });
    for (Node* node : found) {
      torch::jit::WithInsertPoint guard(node);
      Value* x = node->input(0);
      auto* gate = graph->insertNode(graph->create(sigmoid, {x}, 1));
      gate->output()->setType(x->type());
      auto* product = graph->insertNode(graph->create(mul, {x, gate->output()}, 1));
      product->copyMetadata(node);
      product->output()->setType(node->output()->type());
      node->output()->replaceAllUsesWith(product->output());
      node->destroy();
      ++rewritten;
    }
  }
  return rewritten;
}

}  // namespace mlopt::graph_passes
