#pragma once
// When each value of a TorchScript block is read for the last time, so that
// an interpreter (the shape probe) can drop it there: a probe that keeps every
// activation alive to the end touches fresh memory for each one, and on a VM
// every first touch of a page is a costly fault.
#include <torch/script.h>

#include <unordered_map>
#include <vector>

namespace mlopt::onnx_export {

// For each node of `block`, the values defined in `block` (node outputs and the
// block's own inputs) that no later node of `block` reads; a read from a nested
// block counts as a read by the node that owns it; an output nobody reads dies at
// the node that makes it. The block's outputs never die.
using DeathPlan = std::unordered_map<const torch::jit::Node*, std::vector<const torch::jit::Value*>>;
DeathPlan plan_value_deaths(const torch::jit::Block* block);

}  // namespace mlopt::onnx_export
