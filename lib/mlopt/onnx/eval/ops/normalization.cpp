// BatchNormalization (inference), LayerNormalization, InstanceNormalization.
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

}  // namespace

REGISTER_ONNX_OP(batch_norm, "BatchNormalization");
REGISTER_ONNX_OP(layer_norm, "LayerNormalization");
REGISTER_ONNX_OP(instance_norm, "InstanceNormalization");

}  // namespace mlopt::onnx_eval
