#pragma once
// Dynamic int8 LSTM / GRU: aten::lstm / aten::gru over float weights become
// aten::quantized_lstm / aten::quantized_gru over prepacked int8 cell
// parameters (quantized::make_quantized_cell_params_dynamic), the kernels
// torch.ao.nn.quantized.dynamic.LSTM/GRU run.
#include <torch/script.h>

#include <set>
#include <string>

#include "mlopt/quantize/weight_granularity.h"

namespace mlopt::quant {

// The weights (weight_ih_l0) of the recurrent layers listed in `float_modules`.
std::vector<at::Tensor> recurrent_float_weights(const torch::jit::Module& model,
                                                const std::set<std::string>& float_modules);

// Rewrites the aten::lstm/gru calls of a frozen module's forward (their
// weights are graph constants) except those whose first weight is in
// `float_weights`; returns how many were rewritten.
int rewrite_recurrent_dynamic(torch::jit::Module& frozen, const std::vector<at::Tensor>& float_weights,
                              Granularity granularity);

}  // namespace mlopt::quant
