#pragma once
// How int8 weights are scaled: one scale for the whole tensor, one per output
// channel, or -- the dynamic default -- per channel only for the weights that
// one scale would ruin.
//
// One scale per tensor gives the fastest dynamic linear kernels (oneDNN's
// per-channel dynamic linear is slower), and on ordinary weights costs only
// about 4 dB of weight SQNR against per-channel scales (~39 dB against ~43).
// But a single outlier ruins it: LibTorch 1.13's trunc_normal_ clamps its
// tails to +-2, so a ConvNeXt or Swin head initialised with std 0.02 holds a
// weight at 100 sigma, and one scale for the tensor leaves the other weights
// a handful of int8 steps (12.8 dB at the output). Per-channel scales confine
// the damage to that weight's row.
#include <torch/script.h>

#include <string>

namespace mlopt::quant {

enum class Granularity { per_tensor, per_channel, per_channel_for_outliers };

// --per-tensor / --per-channel, else per channel for static int8 and
// per channel for outliers for dynamic int8.
Granularity weight_granularity(const std::string& mode, bool per_tensor_flag, bool per_channel_flag);

// Whether `weight` (output channels along dim 0) gets one scale per channel:
// for per_channel_for_outliers, when one scale for the tensor would keep its
// SQNR under 30 dB and per-channel scales gain at least 6 dB (one bit) on it.
bool per_channel_weights(const at::Tensor& weight, Granularity granularity);

// Symmetric int8 scales (max |w| / 127, zero point 0): one per channel along
// `axis` ([channels]), or one for the tensor ([1]).
at::Tensor symmetric_int8_scales(const at::Tensor& weight, bool per_channel, int64_t axis = 0);

// Symmetric qint8 weights (zero point 0) along dim 0 or for the tensor, as the
// dynamic linear and recurrent kernels take them.
at::Tensor quantize_weight_int8(const at::Tensor& weight, bool per_channel);

// The weight (as float) after a round trip through symmetric int8 with
// per-channel or per-tensor scales: what the kernels compute with.
at::Tensor int8_round_trip(const at::Tensor& weight, bool per_channel);

// Weight SQNR (dB) of symmetric int8 with per-channel or per-tensor scales.
double weight_sqnr_db(const at::Tensor& weight, bool per_channel);

}  // namespace mlopt::quant
