// BatchNormalization (inference), LayerNormalization, InstanceNormalization, LRN,
// MeanVarianceNormalization.
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

at::Tensor per_channel(const at::Tensor& v, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[1] = -1;
  return v.reshape(shape);
}

Ts batch_norm(OpContext& c) {
  const auto& x = c.input(0);
  double eps = c.attr_float("epsilon", 1e-5);
  if (c.attr_int("training_mode", 0)) c.fail("BatchNormalization in training mode is not supported (inference only)");
  int64_t r = x.dim();
  auto inv = at::rsqrt(per_channel(c.input(4), r) + eps);
  return {(x - per_channel(c.input(3), r)) * inv * per_channel(c.input(1), r) + per_channel(c.input(2), r)};
}

Ts layer_norm(OpContext& c) {
  const auto& x = c.input(0);
  int64_t axis = normalize_axis(c.attr_int("axis", -1), x.dim(), c);
  double eps = c.attr_float("epsilon", 1e-5);
  std::vector<int64_t> dims;
  for (int64_t d = axis; d < x.dim(); ++d) dims.push_back(d);
  // Computed in float32 at least, as ONNX's stash_type=1 does.
  auto xf = x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);
  auto mean = xf.mean(dims, true);
  auto centered = xf - mean;
  auto inv_std = at::rsqrt(centered.pow(2).mean(dims, true) + eps);
  auto y = (centered * inv_std).to(x.scalar_type()) * c.input(1);
  if (c.has_input(2)) y = y + c.input(2);
  return {y, mean, inv_std};
}

Ts instance_norm(OpContext& c) {
  const auto& x = c.input(0);
  return {at::instance_norm(x, c.input(1), c.input(2), {}, {}, true, 0.0, c.attr_float("epsilon", 1e-5), false)};
}

// Local response normalization across channels: x / (bias + alpha/size *
// sum of squares over the `size` channels around c)^beta.
Ts lrn(OpContext& c) {
  const auto& x = c.input(0);
  int64_t size = c.attr_int("size", 0);
  if (size < 1) c.fail(fmt::format("size must be 1 or more, got {}", size));
  if (x.dim() < 3) c.fail(fmt::format("the input must be [N, C, ...], got {} dim(s)", x.dim()));
  double alpha = c.attr_float("alpha", 1e-4), beta = c.attr_float("beta", 0.75), bias = c.attr_float("bias", 1.0);
  auto square = (x * x).movedim(1, -1);
  auto padded = at::constant_pad_nd(square, {(size - 1) / 2, size / 2});
  auto sums = padded.unfold(-1, size, 1).sum(-1).movedim(-1, 1);
  return {x / at::pow(bias + alpha / static_cast<double>(size) * sums, beta)};
}

// (x - mean) / (std + 1e-9) over `axes` (default N, H, W).
Ts mean_variance_normalization(OpContext& c) {
  const auto& x = c.input(0);
  auto axes = c.attr_ints("axes", {0, 2, 3});
  for (auto& a : axes) a = normalize_axis(a, x.dim(), c);
  auto mean = x.mean(axes, true);
  auto variance = (x * x).mean(axes, true) - mean * mean;
  return {(x - mean) / (at::sqrt(variance) + 1e-9)};
}

}  // namespace

REGISTER_ONNX_OP({"LRN"}, lrn);
REGISTER_ONNX_OP({"MeanVarianceNormalization"}, mean_variance_normalization);
REGISTER_ONNX_OP({"BatchNormalization"}, batch_norm);
REGISTER_ONNX_OP({"LayerNormalization"}, layer_norm);
REGISTER_ONNX_OP({"InstanceNormalization"}, instance_norm);

}  // namespace mlopt::onnx_eval
