// torchvision's batched_nms chooses at run time between two implementations
// of the same result: `_batched_nms_vanilla` (a loop over torch.unique of the
// classes, in-place writes into a keep mask: no ONNX form) above 4000 box
// coordinates on the CPU, `_batched_nms_coordinate_trick` (the boxes of each
// class offset apart, one NMS) below. Both keep the same boxes in the same
// order, so the export takes the coordinate trick for every size.
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/scope.h>

#include "mlopt/core/log.h"
#include "mlopt/onnx/lowering.h"

namespace mlopt::onnx_export {
namespace {

using torch::jit::Block;
using torch::jit::Node;

// Whether a node of `block` (or of its sub-blocks) was inlined from a function named `name`.
bool inlined_from(const Block* block, const std::string& name) {
  for (const Node* n : block->nodes()) {
    // By the names the call stack keeps (its Function pointers may belong to
    // the frozen copy of the module, gone by now).
    for (auto cs = n->callstack(); cs; cs = (*cs)->callee())
      if ((*cs)->function_name() == name) return true;
    for (const Block* sub : n->blocks())
      if (inlined_from(sub, name)) return true;
  }
  return false;
}

int choose_in(torch::jit::Graph& graph, Block* block) {
  int chosen = 0;
  for (Node* n : block->nodes()) {
    for (Block* sub : n->blocks()) chosen += choose_in(graph, sub);
    if (n->kind() != c10::prim::If || n->input(0)->node()->kind() == c10::prim::Constant) continue;
    if (!inlined_from(n->blocks()[0], "_batched_nms_vanilla") ||
        !inlined_from(n->blocks()[1], "_batched_nms_coordinate_trick"))
      continue;
    torch::jit::WithInsertPoint guard(n);
    n->replaceInput(0, graph.insertConstant(c10::IValue(false)));
    ++chosen;
  }
  return chosen;
}

}  // namespace

void choose_batched_nms_coordinate_trick(std::shared_ptr<torch::jit::Graph>& graph) {
  int chosen = choose_in(*graph, graph->block());
  if (chosen) log::debug("export-onnx: {} batched_nms branch(es) fixed to the coordinate trick", chosen);
}

}  // namespace mlopt::onnx_export
