// MatMul, Gemm, Einsum and Det.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// Gemm: alpha * A' * B' + beta * C, with C broadcast (unidirectionally).
Ts gemm(OpContext& c) {
  at::Tensor a = c.input(0), b = c.input(1);
  if (a.dim() != 2 || b.dim() != 2) c.fail("Gemm expects 2-D A and B");
  if (c.attr_int("transA", 0)) a = a.t();
  if (c.attr_int("transB", 0)) b = b.t();
  double alpha = c.attr_float("alpha", 1.0), beta = c.attr_float("beta", 1.0);
  at::Tensor y = at::matmul(a, b);
  if (alpha != 1.0) y = y * alpha;
  if (c.has_input(2) && beta != 0.0) y = y + (beta == 1.0 ? c.input(2) : c.input(2) * beta);
  return {y};
}

Ts einsum(OpContext& c) {
  std::string eq = c.attr_string("equation", "");
  if (eq.empty()) c.fail("Einsum needs an 'equation' attribute");
  return {at::einsum(eq, c.inputs)};
}

}  // namespace

REGISTER_ONNX_OP({"MatMul"}, [](OpContext& c) -> Ts {
      check_matmul_output(c);
      return {at::matmul(c.input(0), c.input(1))};
    });
REGISTER_ONNX_OP({"Gemm"}, gemm);
REGISTER_ONNX_OP({"Einsum"}, einsum);
REGISTER_ONNX_OP({"Det"}, [](OpContext& c) -> std::vector<at::Tensor> { return {at::linalg_det(c.input(0))}; });

}  // namespace mlopt::onnx_eval
