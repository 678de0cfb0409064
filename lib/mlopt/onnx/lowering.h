#pragma once
// Normalizes a TorchScript module into one flat, frozen inference graph that
// the converters can walk (see lower_for_export for the ordered list of passes).
#include <torch/script.h>

#include <memory>

namespace mlopt::onnx_export {

// Freezes a clone of `module` (eval mode) and returns its lowered forward graph.
// The graph's first input is `self` (unused after freezing).
std::shared_ptr<torch::jit::Graph> lower_for_export(const torch::jit::Module& module);

// Clean-up passes, each a plain function over a graph (exposed for tests).
void fold_linear_batchnorm(std::shared_ptr<torch::jit::Graph>& graph);
void remove_training_ops(std::shared_ptr<torch::jit::Graph>& graph);
void retype_none_constants(std::shared_ptr<torch::jit::Graph>& graph);
// torchvision's batched_nms: its loop-per-class branch replaced by the equivalent
// one-NMS branch (torchvision_lowering.cpp).
void choose_batched_nms_coordinate_trick(std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace mlopt::onnx_export
