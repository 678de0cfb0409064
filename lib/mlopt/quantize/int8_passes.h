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

namespace mlopt::quant {

struct Int8Plan {
  bool per_channel = true;
  std::set<std::string> float_modules;  // module paths that stay in float
  // Module paths whose kernels take per-tensor weights only (transposed convolutions).
  std::set<std::string> per_tensor_modules;
  // Static: one input batch on which the BatchNorm-folded float model must
  // reproduce the float model (fold_batch_norm.h).
  std::vector<at::Tensor> fold_check_inputs;
};

// Static: calibration feeds batches through `run` (called once for ranges and,
// for histogram/percentile observers, once more for histograms).
torch::jit::Module quantize_static(const torch::jit::Module& model, const Int8Plan& plan, const std::string& observer,
                                   double percentile,
                                   const std::function<void(torch::jit::Module&)>& run_calibration);

torch::jit::Module quantize_dynamic(const torch::jit::Module& model, const Int8Plan& plan);

// Counts of quantized kernels in the module's forward graph (quantized::*,
// aten::quantized_lstm/gru, quantize_per_tensor, ...).
std::vector<std::pair<std::string, int64_t>> quantized_op_counts(torch::jit::Module& module);

}  // namespace mlopt::quant
