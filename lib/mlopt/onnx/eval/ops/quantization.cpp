// Quantized ONNX: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv. Integer products are
// accumulated in float64 (exact for int8/uint8 at any practical size).
#include "mlopt/onnx/eval/conv_common.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// A per-tensor scale/zero point, or per-axis reshaped to broadcast along `axis`.
at::Tensor along_axis(const at::Tensor& v, const OpContext& c, int64_t rank) {
  if (v.dim() == 0 || v.numel() == 1) return v.reshape({});
  int64_t axis = normalize_axis(c.attr_int("axis", 1), rank, c);
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = -1;
  return v.reshape(shape);
}

at::Tensor saturate(const at::Tensor& v, c10::ScalarType type) {
  double lo = type == at::kByte ? 0 : type == at::kChar ? -128 : -2147483648.0;
  double hi = type == at::kByte ? 255 : type == at::kChar ? 127 : 2147483647.0;
  return v.clamp(lo, hi).to(type);
}

// round(x / scale) + zero_point, saturated to the zero point's type (round half to even).
at::Tensor quantize(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp, c10::ScalarType type) {
  auto q = at::round(x.to(at::kFloat) / scale.to(at::kFloat)) + zp.to(at::kFloat);
  return saturate(q, type);
}

Ts quantize_linear(OpContext& c) {
  const auto& x = c.input(0);
  auto scale = along_axis(c.input(1), c, x.dim());
  at::Tensor zp = c.has_input(2) ? along_axis(c.input(2), c, x.dim()) : torch::zeros({}, at::kByte);
  return {quantize(x, scale, zp, zp.scalar_type())};
}

Ts dequantize_linear(OpContext& c) {
  const auto& x = c.input(0);
  auto scale = along_axis(c.input(1), c, x.dim());
  at::Tensor zp = c.has_input(2) ? along_axis(c.input(2), c, x.dim()).to(at::kFloat) : torch::zeros({});
  return {((x.to(at::kFloat) - zp) * scale).to(scale.scalar_type())};
}

Ts dynamic_quantize_linear(OpContext& c) {
  auto x = c.input(0).to(at::kFloat);
  float lo = std::min(0.0f, x.numel() ? x.min().item<float>() : 0.0f);
  float hi = std::max(0.0f, x.numel() ? x.max().item<float>() : 0.0f);
  float scale = (hi - lo) / 255.0f;
  if (scale == 0) return {torch::zeros_like(x, at::kByte), torch::scalar_tensor(0.0f), torch::scalar_tensor(0, at::kByte)};
  auto zp = saturate(torch::round(torch::scalar_tensor(-lo / scale)), at::kByte);
  return {quantize(x, torch::scalar_tensor(scale), zp, at::kByte), torch::scalar_tensor(scale), zp};
}

at::Tensor centered(const at::Tensor& v, const at::Tensor& zp) {
  return zp.defined() ? v.to(at::kDouble) - zp.to(at::kDouble) : v.to(at::kDouble);
}

// A's zero point may be per row ([M]); B's per column ([N]).
at::Tensor a_zero_point(const OpContext& c, size_t i) {
  if (!c.has_input(i)) return {};
  auto zp = c.input(i);
  return zp.numel() > 1 ? zp.reshape({-1, 1}) : zp.reshape({});
}

Ts matmul_integer(OpContext& c) {
  auto a = centered(c.input(0), a_zero_point(c, 2));
  auto b = centered(c.input(1), c.has_input(3) ? c.input(3) : at::Tensor());
  return {at::matmul(a, b).round().to(at::kInt)};
}

// Weights' zero point is per output channel ([M]) or per tensor.
at::Tensor per_output_channel(const at::Tensor& v, int64_t rank) {
  if (v.numel() <= 1) return v.reshape({});
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[0] = -1;
  return v.reshape(shape);
}

at::Tensor integer_conv(const OpContext& c, const at::Tensor& x, const at::Tensor& x_zp, const at::Tensor& w,
                        const at::Tensor& w_zp) {
  // Subtracting the zero points first makes the padding (zeros) exact.
  auto xd = centered(x, x_zp.defined() ? x_zp.reshape({}) : at::Tensor());
  auto wd = centered(w, w_zp.defined() ? per_output_channel(w_zp, w.dim()) : at::Tensor());
  return run_conv(c, xd, wd, {});
}

Ts conv_integer(OpContext& c) {
  auto acc = integer_conv(c, c.input(0), c.has_input(2) ? c.input(2) : at::Tensor(), c.input(1),
                          c.has_input(3) ? c.input(3) : at::Tensor());
  return {acc.round().to(at::kInt)};
}

// Requantizes an int32-valued accumulator: round(acc * sa * sb / sy) + zy.
at::Tensor requantize(const at::Tensor& acc, const at::Tensor& real_scale, const at::Tensor& y_scale,
                      const at::Tensor& y_zp) {
  auto multiplier = (real_scale.to(at::kFloat) / y_scale.to(at::kFloat));
  auto y = at::round(acc.to(at::kFloat) * multiplier) + y_zp.to(at::kFloat);
  return saturate(y, y_zp.scalar_type());
}

Ts qlinear_matmul(OpContext& c) {
  auto a = centered(c.input(0), a_zero_point(c, 2));
  auto b = centered(c.input(3), c.input(5));
  auto acc = at::matmul(a, b);
  auto scale = c.input(1).to(at::kFloat) * c.input(4).to(at::kFloat).reshape({-1});
  if (scale.numel() == 1) scale = scale.reshape({});
  return {requantize(acc, scale, c.input(6), c.input(7))};
}

Ts qlinear_conv(OpContext& c) {
  const auto &x = c.input(0), &w = c.input(3);
  auto acc = integer_conv(c, x, c.input(2), w, c.input(5));
  if (c.has_input(8)) {
    std::vector<int64_t> shape(static_cast<size_t>(acc.dim()), 1);
    shape[1] = -1;
    acc = acc + c.input(8).to(at::kDouble).reshape(shape);
  }
  auto w_scale = per_output_channel(c.input(4), acc.dim()).to(at::kFloat);
  if (w_scale.dim() > 0) w_scale = w_scale.transpose(0, 1);  // [1, M, 1, 1]: along output channels
  auto scale = c.input(1).to(at::kFloat).reshape({}) * w_scale;
  return {requantize(acc, scale, c.input(6), c.input(7))};
}

}  // namespace

REGISTER_ONNX_OP({"QuantizeLinear"}, quantize_linear);
REGISTER_ONNX_OP({"DequantizeLinear"}, dequantize_linear);
REGISTER_ONNX_OP({"DynamicQuantizeLinear"}, dynamic_quantize_linear);
REGISTER_ONNX_OP({"MatMulInteger"}, matmul_integer);
REGISTER_ONNX_OP({"ConvInteger"}, conv_integer);
REGISTER_ONNX_OP({"QLinearMatMul"}, qlinear_matmul);
REGISTER_ONNX_OP({"QLinearConv"}, qlinear_conv);

}  // namespace mlopt::onnx_eval
