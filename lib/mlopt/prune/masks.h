#pragma once
// Unstructured and Ln-structured pruning masks over layer weights. A mask is
// 1 where a weight is kept and 0 where it is pruned; applying it zeroes the
// weights in place, so the artifact carries no mask parameters.
#include <torch/script.h>

#include <string>
#include <vector>

#include "mlopt/prune/layer_select.h"

namespace mlopt::pruning {

struct WeightMask {
  std::string path;  // the layer's module path
  at::Tensor mask;   // same shape as the weight, float 0/1
};

// Number of elements pruned out of `n` for `amount` (round to nearest).
int64_t pruned_count(int64_t n, double amount);

// Per layer: the fraction `amount` of weights with the smallest magnitude.
std::vector<WeightMask> l1_unstructured_masks(const std::vector<PrunableLayer>& layers, double amount);
// All selected weights ranked together: the smallest fraction `amount` overall.
std::vector<WeightMask> global_unstructured_masks(const std::vector<PrunableLayer>& layers, double amount);
// Per layer: whole output channels / neurons with the smallest Ln norm.
std::vector<WeightMask> ln_structured_masks(const std::vector<PrunableLayer>& layers, double amount, int norm);

// weight *= mask for every mask (no autograd); `module` holds the layers.
void apply_masks(torch::jit::Module& module, const std::vector<WeightMask>& masks);

}  // namespace mlopt::pruning
