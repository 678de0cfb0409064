// The signal windows of opset 17: HannWindow, HammingWindow, BlackmanWindow.
// `periodic` (default 1) divides by N rather than N - 1.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"
#include "mlopt/onnx/proto/dtype.h"
#include "mlopt/onnx/proto/tensor.h"

namespace mlopt::onnx_eval {

using onnx_proto::scalar_type_of_onnx;
namespace {

using Ts = std::vector<at::Tensor>;

// sum_k a_k cos(2 pi k n / D), alternating signs as the coefficients give them.
Ts cosine_window(OpContext& c, const std::vector<double>& a) {
  int64_t size = c.input(0).reshape({-1})[0].item<int64_t>();
  check_value_shape(c, {size}, "the window");
  auto type = scalar_type_of_onnx(static_cast<int32_t>(c.attr_int("output_datatype", 1)), "output_datatype");
  double denominator = static_cast<double>(c.attr_int("periodic", 1) ? size : size - 1);
  auto n = at::arange(size, at::kDouble);
  auto y = at::zeros({size}, at::kDouble);
  for (size_t k = 0; k < a.size(); ++k) y = y + a[k] * at::cos(2 * M_PI * static_cast<double>(k) * n / denominator);
  return {y.to(type)};
}

}  // namespace

REGISTER_ONNX_OP({"HannWindow"}, [](OpContext& c) { return cosine_window(c, {0.5, -0.5}); });
REGISTER_ONNX_OP({"HammingWindow"}, [](OpContext& c) { return cosine_window(c, {25.0 / 46.0, -(1 - 25.0 / 46.0)}); });
REGISTER_ONNX_OP({"BlackmanWindow"}, [](OpContext& c) { return cosine_window(c, {0.42, -0.5, 0.08}); });

}  // namespace mlopt::onnx_eval
