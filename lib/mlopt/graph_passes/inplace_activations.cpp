#include "mlopt/graph_passes/inplace_activations.h"

#include <torch/csrc/jit/ir/ir.h>

#include <map>
#include <vector>

namespace mlopt::graph_passes {
namespace {

// Out-of-place activation -> its in-place form (same arguments).
const std::map<std::string, std::string>& in_place_forms() {
  static const std::map<std::string, std::string> forms = {
      {"aten::gelu", "aten::gelu_"},       {"aten::relu", "aten::relu_"},
      {"aten::silu", "aten::silu_"},       {"aten::hardswish", "aten::hardswish_"},
      {"aten::sigmoid", "aten::sigmoid_"}, {"aten::tanh", "aten::tanh_"},
  };
  return forms;
}

bool is_fresh_int8_linear_output(const torch::jit::Value* v) {
  return v->node()->kind() == c10::Symbol::fromQualString("quantized::linear_dynamic") && v->uses().size() == 1;
}

void collect_in_place_candidates(torch::jit::Block* block, std::vector<torch::jit::Node*>& found) {
  for (auto* node : block->nodes()) {
    for (auto* sub : node->blocks()) collect_in_place_candidates(sub, found);
    if (node->inputs().empty() || !in_place_forms().count(node->kind().toQualString())) continue;
    // Same block only: in a loop body (or a branch) over an outer value, the
    // second iteration would read what the first overwrote.
    auto* input = node->input(0);
    if (is_fresh_int8_linear_output(input) && input->node()->owningBlock() == node->owningBlock())
      found.push_back(node);
  }
}

}  // namespace

int run_activations_in_place(torch::jit::Graph& graph) {
  std::vector<torch::jit::Node*> found;
  collect_in_place_candidates(graph.block(), found);
  for (auto* node : found) {
    auto kind = c10::Symbol::fromQualString(in_place_forms().at(node->kind().toQualString()));
    torch::jit::WithInsertPoint guard(node);
    auto* replacement = graph.insertNode(graph.create(kind, node->inputs(), 1));
    replacement->copyMetadata(node);
    replacement->output()->setType(node->output()->type());
    node->output()->replaceAllUsesWith(replacement->output());
    node->destroy();
  }
  return static_cast<int>(found.size());
}

}  // namespace mlopt::graph_passes
