// Element-wise arithmetic, math functions, comparisons, logic and Where.
// Broadcasting follows numpy, which ATen also implements.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// ONNX keeps the input type: integer Div truncates (as C), unlike ATen's true division.
Ts div(OpContext& c) {
  const auto &a = c.input(0), &b = c.input(1);
  if (a.is_floating_point()) return {a / b};
  return {at::div(a, b, "trunc").to(a.scalar_type())};
}

// Pow's result has the base's type, whatever the exponent's.
Ts pow(OpContext& c) {
  const auto &a = c.input(0), &b = c.input(1);
  if (a.is_floating_point()) return {at::pow(a, b.to(a.scalar_type()))};
  return {at::pow(a.to(at::kDouble), b.to(at::kDouble)).to(a.scalar_type())};
}

Ts mod(OpContext& c) {
  const auto &a = c.input(0), &b = c.input(1);
  if (c.attr_int("fmod", 0)) return {at::fmod(a, b)};
  return {at::remainder(a, b)};  // sign of the divisor, as numpy.mod
}

Ts variadic(OpContext& c, const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& f) {
  at::Tensor acc = c.input(0);
  for (size_t i = 1; i < c.input_count(); ++i) acc = f(acc, c.input(i));
  return {acc};
}

// A kernel whose output is its inputs' broadcast, its size checked first.
OpKernel broadcasting(OpKernel kernel) {
  return [kernel = std::move(kernel)](OpContext& c) {
    check_broadcast_output(c);
    return kernel(c);
  };
}

template <at::Tensor (*F)(const at::Tensor&)>
Ts unary(OpContext& c) {
  return {F(c.input(0))};
}

at::Tensor t_neg(const at::Tensor& x) { return at::neg(x); }
at::Tensor t_abs(const at::Tensor& x) { return at::abs(x); }
at::Tensor t_sqrt(const at::Tensor& x) { return at::sqrt(x); }
at::Tensor t_exp(const at::Tensor& x) { return at::exp(x); }
at::Tensor t_log(const at::Tensor& x) { return at::log(x); }
at::Tensor t_reciprocal(const at::Tensor& x) { return at::reciprocal(x); }
at::Tensor t_floor(const at::Tensor& x) { return at::floor(x); }
at::Tensor t_ceil(const at::Tensor& x) { return at::ceil(x); }
at::Tensor t_round(const at::Tensor& x) { return at::round(x); }  // half to even, as ONNX
at::Tensor t_sin(const at::Tensor& x) { return at::sin(x); }
at::Tensor t_cos(const at::Tensor& x) { return at::cos(x); }
at::Tensor t_tan(const at::Tensor& x) { return at::tan(x); }
at::Tensor t_atan(const at::Tensor& x) { return at::atan(x); }
at::Tensor t_erf(const at::Tensor& x) { return at::erf(x); }
at::Tensor t_tanh(const at::Tensor& x) { return at::tanh(x); }
at::Tensor t_sign(const at::Tensor& x) { return at::sign(x); }
at::Tensor t_not(const at::Tensor& x) { return at::logical_not(x); }
at::Tensor t_isnan(const at::Tensor& x) { return at::isnan(x); }

Ts isinf(OpContext& c) {
  const auto& x = c.input(0);
  bool pos = c.attr_int("detect_positive", 1), neg = c.attr_int("detect_negative", 1);
  if (pos && neg) return {at::isinf(x)};
  if (pos) return {at::isposinf(x)};
  if (neg) return {at::isneginf(x)};
  return {at::zeros_like(x, at::kBool)};
}

Ts where(OpContext& c) { return {at::where(c.input(0).to(at::kBool), c.input(1), c.input(2))}; }

Ts bitshift(OpContext& c) {
  std::string dir = c.attr_string("direction", "");
  if (dir == "LEFT") return {at::bitwise_left_shift(c.input(0), c.input(1))};
  return {at::bitwise_right_shift(c.input(0), c.input(1))};
}

}  // namespace

REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {c.input(0) + c.input(1)}; }), "Add");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {c.input(0) - c.input(1)}; }), "Sub");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {c.input(0) * c.input(1)}; }), "Mul");
REGISTER_ONNX_OP(broadcasting(div), "Div");
REGISTER_ONNX_OP(broadcasting(pow), "Pow");
REGISTER_ONNX_OP(broadcasting(mod), "Mod");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) { return variadic(c, [](auto& a, auto& b) { return at::maximum(a, b); }); }), "Max");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) { return variadic(c, [](auto& a, auto& b) { return at::minimum(a, b); }); }), "Min");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) { return variadic(c, [](auto& a, auto& b) { return a + b; }); }), "Sum");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts {
                   auto s = variadic(c, [](auto& a, auto& b) { return a + b; })[0];
                   return {s / static_cast<double>(c.input_count())};
                 }),
                 "Mean");
REGISTER_ONNX_OP(unary<t_neg>, "Neg");
REGISTER_ONNX_OP(unary<t_abs>, "Abs");
REGISTER_ONNX_OP(unary<t_sqrt>, "Sqrt");
REGISTER_ONNX_OP(unary<t_exp>, "Exp");
REGISTER_ONNX_OP(unary<t_log>, "Log");
REGISTER_ONNX_OP(unary<t_reciprocal>, "Reciprocal");
REGISTER_ONNX_OP(unary<t_floor>, "Floor");
REGISTER_ONNX_OP(unary<t_ceil>, "Ceil");
REGISTER_ONNX_OP(unary<t_round>, "Round");
REGISTER_ONNX_OP(unary<t_sin>, "Sin");
REGISTER_ONNX_OP(unary<t_cos>, "Cos");
REGISTER_ONNX_OP(unary<t_tan>, "Tan");
REGISTER_ONNX_OP(unary<t_atan>, "Atan");
REGISTER_ONNX_OP(unary<t_erf>, "Erf");
REGISTER_ONNX_OP(unary<t_tanh>, "Tanh");
REGISTER_ONNX_OP(unary<t_sign>, "Sign");
REGISTER_ONNX_OP(unary<t_not>, "Not");
REGISTER_ONNX_OP(unary<t_isnan>, "IsNaN");
REGISTER_ONNX_OP(isinf, "IsInf");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::eq(c.input(0), c.input(1))}; }), "Equal");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::lt(c.input(0), c.input(1))}; }), "Less");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::le(c.input(0), c.input(1))}; }), "LessOrEqual");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::gt(c.input(0), c.input(1))}; }), "Greater");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::ge(c.input(0), c.input(1))}; }), "GreaterOrEqual");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::logical_and(c.input(0), c.input(1))}; }), "And");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::logical_or(c.input(0), c.input(1))}; }), "Or");
REGISTER_ONNX_OP(broadcasting([](OpContext& c) -> Ts { return {at::logical_xor(c.input(0), c.input(1))}; }), "Xor");
REGISTER_ONNX_OP(broadcasting(where), "Where");
REGISTER_ONNX_OP(broadcasting(bitshift), "BitShift");

}  // namespace mlopt::onnx_eval
