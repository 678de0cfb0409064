// Activations, Clip and the softmax family (Softmax, LogSoftmax, Hardmax).
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

Ts clip(OpContext& c) {
  at::Tensor x = c.input(0);
  // Opset 11+: min/max are optional inputs; before: attributes.
  if (c.opset >= 11) {
    if (c.has_input(1)) x = at::maximum(x, c.input(1).to(x.scalar_type()));
    if (c.has_input(2)) x = at::minimum(x, c.input(2).to(x.scalar_type()));
    return {x};
  }
  return {at::clamp(x, c.attr_float("min", -std::numeric_limits<float>::max()),
                    c.attr_float("max", std::numeric_limits<float>::max()))};
}

Ts hard_sigmoid(OpContext& c) {
  double alpha = c.attr_float("alpha", 0.2), beta = c.attr_float("beta", 0.5);
  return {at::clamp(c.input(0) * alpha + beta, 0.0, 1.0)};
}

Ts hard_swish(OpContext& c) {
  const auto& x = c.input(0);
  return {x * at::clamp(x / 6.0 + 0.5, 0.0, 1.0)};  // alpha 1/6, beta 0.5
}

Ts leaky_relu(OpContext& c) { return {at::leaky_relu(c.input(0), c.attr_float("alpha", 0.01))}; }
Ts elu(OpContext& c) { return {at::elu(c.input(0), c.attr_float("alpha", 1.0))}; }
Ts selu(OpContext& c) {
  double alpha = c.attr_float("alpha", 1.67326319217681884765625), gamma = c.attr_float("gamma", 1.05070102214813232421875);
  const auto& x = c.input(0);
  return {at::where(x > 0, x * gamma, (at::exp(x) - 1) * alpha * gamma)};
}
Ts prelu(OpContext& c) {
  const auto &x = c.input(0), &slope = c.input(1);
  return {at::where(x >= 0, x, x * slope)};
}
Ts gelu(OpContext& c) {
  return {at::gelu(c.input(0), c.attr_string("approximate", "none") == "tanh" ? "tanh" : "none")};
}

// Opset 13+: along `axis` (default -1). Before 13: the input is coerced to 2-D
// at `axis` (default 1) and normalized over the flattened tail.
Ts softmax_family(OpContext& c, bool log) {
  const auto& x = c.input(0);
  if (c.opset >= 13) {
    int64_t axis = normalize_axis(c.attr_int("axis", -1), x.dim(), c);
    return {log ? at::log_softmax(x, axis) : at::softmax(x, axis)};
  }
  int64_t axis = normalize_axis(c.attr_int("axis", 1), x.dim(), c);
  auto flat = x.flatten(axis);
  auto y = log ? at::log_softmax(flat, axis) : at::softmax(flat, axis);
  return {y.reshape(x.sizes())};
}

// The softmax family's axis rules, a one-hot of the first maximum.
Ts hardmax(OpContext& c) {
  const auto& x = c.input(0);
  int64_t axis = normalize_axis(c.attr_int("axis", c.opset >= 13 ? -1 : 1), x.dim(), c);
  auto flat = c.opset >= 13 ? x : x.flatten(axis);
  int64_t along = c.opset >= 13 ? axis : flat.dim() - 1;
  auto hot = at::one_hot(flat.argmax(along), flat.size(along)).movedim(-1, along);
  return {hot.to(x.scalar_type()).reshape(x.sizes())};
}

Ts celu(OpContext& c) {
  double alpha = c.attr_float("alpha", 1.0);
  const auto& x = c.input(0);
  return {at::clamp_min(x, 0) + at::clamp_max(alpha * (at::exp(x / alpha) - 1), 0)};
}

Ts thresholded_relu(OpContext& c) {
  const auto& x = c.input(0);
  return {at::where(x > c.attr_float("alpha", 1.0), x, at::zeros_like(x))};
}

Ts shrink(OpContext& c) {
  const auto& x = c.input(0);
  double lambd = c.attr_float("lambd", 0.5), bias = c.attr_float("bias", 0.0);
  auto xd = x.to(at::kDouble);
  auto y = at::where(xd < -lambd, xd + bias, at::where(xd > lambd, xd - bias, at::zeros_like(xd)));
  return {y.to(x.scalar_type())};
}

}  // namespace

REGISTER_ONNX_OP({"Relu"}, [](OpContext& c) -> Ts { return {at::relu(c.input(0))}; });
REGISTER_ONNX_OP({"Hardmax"}, hardmax);
REGISTER_ONNX_OP({"Celu"}, celu);
REGISTER_ONNX_OP({"ThresholdedRelu"}, thresholded_relu);
REGISTER_ONNX_OP({"Shrink"}, shrink);
REGISTER_ONNX_OP({"Sigmoid"}, [](OpContext& c) -> Ts { return {at::sigmoid(c.input(0))}; });
REGISTER_ONNX_OP({"Softplus"}, [](OpContext& c) -> Ts { return {at::softplus(c.input(0))}; });
REGISTER_ONNX_OP({"Softsign"}, [](OpContext& c) -> Ts { return {c.input(0) / (at::abs(c.input(0)) + 1)}; });
REGISTER_ONNX_OP({"Mish"}, [](OpContext& c) -> Ts { return {at::mish(c.input(0))}; });
REGISTER_ONNX_OP({"Clip"}, clip);
REGISTER_ONNX_OP({"HardSigmoid"}, hard_sigmoid);
REGISTER_ONNX_OP({"HardSwish"}, hard_swish);
REGISTER_ONNX_OP({"LeakyRelu"}, leaky_relu);
REGISTER_ONNX_OP({"Elu"}, elu);
REGISTER_ONNX_OP({"Selu"}, selu);
REGISTER_ONNX_OP({"PRelu"}, prelu);
REGISTER_ONNX_OP({"Gelu"}, gelu);
REGISTER_ONNX_OP({"Softmax"}, [](OpContext& c) { return softmax_family(c, false); });
REGISTER_ONNX_OP({"LogSoftmax"}, [](OpContext& c) { return softmax_family(c, true); });

}  // namespace mlopt::onnx_eval
