#pragma once
// Whether a node sits in a block or in any block nested inside it (a loop or
// branch body within the body). For the passes that work on TorchScript IR.
#include <torch/csrc/jit/ir/ir.h>

namespace mlopt::onnx_export {

inline bool nested_in(const torch::jit::Node* node, const torch::jit::Block* block) {
  for (const torch::jit::Block* b = node->owningBlock(); b; b = b->owningNode() ? b->owningNode()->owningBlock() : nullptr)
    if (b == block) return true;
  return false;
}

}  // namespace mlopt::onnx_export
