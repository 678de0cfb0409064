// Inverse and hyperbolic trigonometric functions (Sin, Cos, Tan and Atan are
// with the other element-wise functions in elementwise.cpp).
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

template <at::Tensor (*F)(const at::Tensor&)>
Ts unary(OpContext& c) {
  return {F(c.input(0))};
}

}  // namespace

REGISTER_ONNX_OP(unary<at::asin>, "Asin");
REGISTER_ONNX_OP(unary<at::acos>, "Acos");
REGISTER_ONNX_OP(unary<at::sinh>, "Sinh");
REGISTER_ONNX_OP(unary<at::cosh>, "Cosh");
REGISTER_ONNX_OP(unary<at::asinh>, "Asinh");
REGISTER_ONNX_OP(unary<at::acosh>, "Acosh");
REGISTER_ONNX_OP(unary<at::atanh>, "Atanh");

}  // namespace mlopt::onnx_eval
