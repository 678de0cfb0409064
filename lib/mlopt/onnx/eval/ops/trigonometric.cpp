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

REGISTER_ONNX_OP({"Asin"}, unary<at::asin>);
REGISTER_ONNX_OP({"Acos"}, unary<at::acos>);
REGISTER_ONNX_OP({"Sinh"}, unary<at::sinh>);
REGISTER_ONNX_OP({"Cosh"}, unary<at::cosh>);
REGISTER_ONNX_OP({"Asinh"}, unary<at::asinh>);
REGISTER_ONNX_OP({"Acosh"}, unary<at::acosh>);
REGISTER_ONNX_OP({"Atanh"}, unary<at::atanh>);

}  // namespace mlopt::onnx_eval
