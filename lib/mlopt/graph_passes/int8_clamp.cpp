#include "mlopt/graph_passes/int8_clamp.h"

#include <torch/csrc/jit/ir/ir.h>

#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace mlopt::graph_passes {
namespace {

using torch::jit::Node;

// The bounds of a clamp-like node, when both are constants.
std::optional<std::pair<c10::IValue, c10::IValue>> constant_bounds(Node* node) {
  const std::string kind = node->kind().toQualString();
  if (kind == "aten::relu6" || kind == "aten::relu6_") return std::make_pair(c10::IValue(0.0), c10::IValue(6.0));
  static const std::set<std::string> bounded = {"aten::hardtanh", "aten::hardtanh_", "aten::clamp", "aten::clamp_"};
  if (!bounded.count(kind) || node->inputs().size() != 3) return std::nullopt;
  auto low = torch::jit::toIValue(node->input(1)), high = torch::jit::toIValue(node->input(2));
  if (!low || !high || !low->isScalar() || !high->isScalar()) return std::nullopt;  // None, or tensor bounds
  return std::make_pair(*low, *high);
}

// Every other reader of the clamp's input runs before it, in its block (an
// in-place clamp's later readers would see the clamped tensor).
bool input_not_read_after(Node* node) {
  for (const auto& use : node->input(0)->uses()) {
    if (use.user == node) continue;
    if (use.user->owningBlock() != node->owningBlock() || !use.user->isBefore(node)) return false;
  }
  return true;
}

void collect_clamps(torch::jit::Block* block, std::vector<Node*>& found) {
  for (auto* node : block->nodes()) {
    for (auto* sub : node->blocks()) collect_clamps(sub, found);
    if (!node->inputs().empty() && constant_bounds(node) && input_not_read_after(node)) found.push_back(node);
  }
}

}  // namespace

int clamp_on_contiguous_input(torch::jit::Graph& graph) {
  std::vector<Node*> found;
  collect_clamps(graph.block(), found);
  static const auto hardtanh = c10::Symbol::fromQualString("aten::hardtanh");
  static const auto contiguous = c10::Symbol::fromQualString("aten::contiguous");
  for (auto* node : found) {
    auto [low, high] = *constant_bounds(node);
    torch::jit::WithInsertPoint guard(node);
    auto* input = node->input(0);
    auto* nchw = graph.insertNode(
        graph.create(contiguous, {input, graph.insertConstant(static_cast<int64_t>(c10::MemoryFormat::Contiguous))}, 1));
    nchw->output()->setType(input->type());
    auto* replacement = graph.insertNode(
        graph.create(hardtanh, {nchw->output(), graph.insertConstant(low), graph.insertConstant(high)}, 1));
    replacement->copyMetadata(node);
    replacement->output()->setType(node->output()->type());
    node->output()->replaceAllUsesWith(replacement->output());
    node->destroy();
  }
  return static_cast<int>(found.size());
}

}  // namespace mlopt::graph_passes
