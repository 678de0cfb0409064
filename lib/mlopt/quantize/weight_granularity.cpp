#include "mlopt/quantize/weight_granularity.h"

#include <algorithm>
#include <cmath>

namespace mlopt::quant {
namespace {

constexpr double kPoorPerTensorSqnrDb = 30;
constexpr double kPerChannelGainDb = 6;

// Channels along `axis` become rows: [channels, everything else].
at::Tensor rows_of(const at::Tensor& weight, int64_t axis = 0) {
  auto w = weight.detach().to(at::kFloat);
  if (w.dim() < 2) return w.reshape({1, -1});
  return w.movedim(axis, 0).contiguous().reshape({w.size(axis), -1});
}

// [rows, 1]: broadcasts against rows_of(weight).
at::Tensor symmetric_scales(const at::Tensor& rows, bool per_channel) {
  auto amax = per_channel ? rows.abs().amax({1}, true) : rows.abs().max().reshape({1, 1});
  return (amax / 127.0).clamp_min(1e-8);
}

}  // namespace

at::Tensor symmetric_int8_scales(const at::Tensor& weight, bool per_channel, int64_t axis) {
  return symmetric_scales(rows_of(weight, axis), per_channel).reshape({-1});
}

Granularity weight_granularity(const std::string& mode, bool per_tensor_flag, bool per_channel_flag) {
  if (per_tensor_flag) return Granularity::per_tensor;
  if (per_channel_flag || mode != "dynamic") return Granularity::per_channel;
  return Granularity::per_channel_for_outliers;
}

at::Tensor int8_round_trip(const at::Tensor& weight, bool per_channel) {
  auto rows = rows_of(weight);
  auto scale = symmetric_scales(rows, per_channel);
  return ((rows / scale).round().clamp(-128, 127) * scale).reshape(weight.sizes());
}

double weight_sqnr_db(const at::Tensor& weight, bool per_channel) {
  auto rows = rows_of(weight);
  auto restored = int8_round_trip(weight, per_channel).reshape(rows.sizes());
  double signal = rows.to(at::kDouble).pow(2).sum().item<double>();
  double noise = (rows - restored).to(at::kDouble).pow(2).sum().item<double>();
  return noise > 0 ? 10 * std::log10(signal / noise) : 200.0;
}

bool per_channel_weights(const at::Tensor& weight, Granularity granularity) {
  if (granularity != Granularity::per_channel_for_outliers) return granularity == Granularity::per_channel;
  double per_tensor = weight_sqnr_db(weight, false);
  return per_tensor < kPoorPerTensorSqnrDb && weight_sqnr_db(weight, true) >= per_tensor + kPerChannelGainDb;
}

at::Tensor quantize_weight_int8(const at::Tensor& weight, bool per_channel) {
  auto w = weight.detach().to(at::kFloat).contiguous();
  if (per_channel) {
    auto scales = symmetric_int8_scales(w, true).to(at::kDouble);
    return at::quantize_per_channel(w, scales, at::zeros({w.size(0)}, at::kLong), 0, at::kQInt8);
  }
  double scale = std::max(w.abs().max().item<double>() / 127.0, 1e-8);
  return at::quantize_per_tensor(w, scale, 0, at::kQInt8);
}

}  // namespace mlopt::quant
