#pragma once
// int8 TorchScript modules through LibTorch's graph-mode quantization passes
// (the passes torch.ao.quantization.quantize_jit drives): fold batch norm
// (fold_batch_norm.h, not LibTorch's FoldConvBatchNorm), insert
// observers, calibrate, insert quantize/dequantize, finalize into quantized::
// kernels with prepacked weights. Recurrent layers (rnn_dynamic.h) and
// embedding tables (embedding_int8.h) are rewritten separately.
#include <torch/script.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "mlopt/quantize/weight_granularity.h"

namespace mlopt::quant {

struct Int8Plan {
  // Per channel for outliers: the caller lists the layers whose weights need
  // no per-channel scales in per_tensor_modules (recurrent layers decide here).
  Granularity weights = Granularity::per_channel;
  std::set<std::string> float_modules;  // module paths that stay in float
  // Module paths with per-tensor weights: kernels that take no others
  // (transposed convolutions), or weights that need no more.
  std::set<std::string> per_tensor_modules;
  // Static: one input batch on which the BatchNorm-folded float model must
  // reproduce the float model (fold_batch_norm.h).
  std::vector<at::Tensor> fold_check_inputs;
  // Quantization-aware training: fake-quantizing observers (fake_quant.h) in
  // place of the static ones, so the prepared module trains on the int8 grid.
  bool fake_quant = false;
  // false: BatchNorm stays (QAT's first epochs, while its statistics still move).
  bool fold_batch_norm = true;
};

// Static: calibration feeds batches through `run` (called once for ranges and,
// for histogram/percentile observers, once more for histograms).
torch::jit::Module quantize_static(const torch::jit::Module& model, const Int8Plan& plan, const std::string& observer,
                                   double percentile,
                                   const std::function<void(torch::jit::Module&)>& run_calibration);

// The static flow in its steps (quantize_static runs them in a row; QAT trains
// the prepared module between calibration and conversion):
// BatchNorm folded and observers inserted ...
torch::jit::Module prepare_static(const torch::jit::Module& model, const Int8Plan& plan);
// ... activation ranges observed and chosen ...
void calibrate_static(torch::jit::Module& prepared, const std::string& observer, double percentile,
                      const std::function<void(torch::jit::Module&)>& run_calibration);
// ... and quantize/dequantize inserted and fused into int8 kernels (with the
// scales the observers hold), embedding `int8_tables` rewritten.
torch::jit::Module convert_static(const torch::jit::Module& prepared, const std::vector<at::Tensor>& int8_tables);

torch::jit::Module quantize_dynamic(const torch::jit::Module& model, const Int8Plan& plan);

// Counts of quantized kernels in the module's forward graph (quantized::*,
// aten::quantized_lstm/gru, quantize_per_tensor, ...).
std::vector<std::pair<std::string, int64_t>> quantized_op_counts(torch::jit::Module& module);

}  // namespace mlopt::quant
