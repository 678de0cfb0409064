#include "mlopt/graph_passes/eval_mode.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/script.h>

#include <set>
#include <vector>

namespace mlopt::graph_passes {

namespace {

// The `prim::GetAttr[name="training"](self)` nodes of a method's graph.
std::vector<torch::jit::Node*> training_reads(const torch::jit::Graph& graph) {
  std::vector<torch::jit::Node*> reads;
  for (const auto& use : graph.inputs().at(0)->uses())
    if (use.user->kind() == c10::prim::GetAttr && use.user->s(c10::attr::name) == "training")
      reads.push_back(use.user);
  return reads;
}

// Inlines the function calls that take `value` (torchvision's modules pass
// self.training to a scripted function: the branch it decides is in there).
void inline_calls_taking(torch::jit::Value* value) {
  std::vector<torch::jit::Node*> calls;
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

}  // namespace

int fold_eval_mode(torch::jit::Module& module) {
  int folded = 0;
  std::set<const torch::jit::Graph*> seen;
  for (const auto& m : module.modules()) {
    if (m.is_training()) continue;
    for (const auto& method : m.get_methods()) {
      auto graph = method.graph();
      if (graph->inputs().empty() || !seen.insert(graph.get()).second) continue;
      auto reads = training_reads(*graph);
      if (reads.empty()) continue;
      torch::jit::WithInsertPoint at_start(graph->param_node()->next());
      auto no = graph->insertConstant(false);
      for (auto* read : reads) {
        inline_calls_taking(read->output());
        read->output()->replaceAllUsesWith(no);
        read->destroy();
      }
      folded += static_cast<int>(reads.size());
      torch::jit::ConstantPropagation(graph);
      torch::jit::EliminateDeadCode(graph);
    }
  }
  return folded;
}

}  // namespace mlopt::graph_passes
