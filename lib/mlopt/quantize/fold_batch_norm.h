#pragma once
// Folds every BatchNorm that directly follows a convolution (1d/2d/3d) or a
// linear layer into that layer's weight and bias, before static int8
// quantization: int8 then stores the folded weights, and no separate int8
// batch_norm rounds the output again.
//
// LibTorch's own FoldConvBatchNorm (1.13) covers Conv2d/Conv3d only, and for a
// bias-free convolution it wires the new bias into aten::_convolution only: a
// convolution that calls aten::conv2d(x, w, None) (mlopt's compiled .py models)
// gets the scaled weight but loses the folded bias, a silently wrong model.
// Here the bias is wired into every call the layer makes, whatever its source.
#include <torch/script.h>

#include <string>
#include <vector>

namespace mlopt::quant {

struct FoldedBatchNorm {
  std::string layer, batch_norm;  // module paths
};

struct BatchNormFold {
  torch::jit::Module module;  // a folded clone (the input is never changed)
  std::vector<FoldedBatchNorm> folded;
};

// `check_inputs` (one batch): the folded model must reproduce the float model
// on it. Linear+BatchNorm1d folds are undone when they do not (BatchNorm1d on a
// 3-d input normalizes dim 1, not the features); any other mismatch throws.
BatchNormFold fold_batch_norms(const torch::jit::Module& model, const std::vector<at::Tensor>& check_inputs);

}  // namespace mlopt::quant
