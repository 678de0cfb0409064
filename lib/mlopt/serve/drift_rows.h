#pragma once
// Drift rows (registry/drift.h) from the host tensors of one served request:
// the same summary as registry/row_stats.h computes from at::Tensor, without
// LibTorch (a 2-D output with 2+ columns is a classifier; logits are softmaxed).
#include <vector>

#include "mlopt/registry/drift.h"
#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

std::vector<registry::RowStats> drift_rows(const std::vector<HostTensor>& inputs,
                                           const std::vector<HostTensor>& outputs);

}  // namespace mlopt::serving
