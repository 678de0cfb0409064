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

REGISTER_ONNX_OP({"Add"}, broadcasting([](OpContext& c) -> Ts { return {c.input(0) + c.input(1)}; }));
REGISTER_ONNX_OP({"Sub"}, broadcasting([](OpContext& c) -> Ts { return {c.input(0) - c.input(1)}; }));
REGISTER_ONNX_OP({"Mul"}, broadcasting([](OpContext& c) -> Ts { return {c.input(0) * c.input(1)}; }));
REGISTER_ONNX_OP({"Div"}, broadcasting(div));
REGISTER_ONNX_OP({"Pow"}, broadcasting(pow));
REGISTER_ONNX_OP({"Mod"}, broadcasting(mod));
REGISTER_ONNX_OP({"Max"}, broadcasting([](OpContext& c) { return variadic(c, [](auto& a, auto& b) { return at::maximum(a, b); }); }));
REGISTER_ONNX_OP({"Min"}, broadcasting([](OpContext& c) { return variadic(c, [](auto& a, auto& b) { return at::minimum(a, b); }); }));
REGISTER_ONNX_OP({"Sum"}, broadcasting([](OpContext& c) { return variadic(c, [](auto& a, auto& b) { return a + b; }); }));
REGISTER_ONNX_OP({"Mean"}, broadcasting([](OpContext& c) -> Ts {
                   auto s = variadic(c, [](auto& a, auto& b) { return a + b; })[0];
                   return {s / static_cast<double>(c.input_count())};
                 }));
REGISTER_ONNX_OP({"Neg"}, unary<t_neg>);
REGISTER_ONNX_OP({"Abs"}, unary<t_abs>);
REGISTER_ONNX_OP({"Sqrt"}, unary<t_sqrt>);
REGISTER_ONNX_OP({"Exp"}, unary<t_exp>);
REGISTER_ONNX_OP({"Log"}, unary<t_log>);
REGISTER_ONNX_OP({"Reciprocal"}, unary<t_reciprocal>);
REGISTER_ONNX_OP({"Floor"}, unary<t_floor>);
REGISTER_ONNX_OP({"Ceil"}, unary<t_ceil>);
REGISTER_ONNX_OP({"Round"}, unary<t_round>);
REGISTER_ONNX_OP({"Sin"}, unary<t_sin>);
REGISTER_ONNX_OP({"Cos"}, unary<t_cos>);
REGISTER_ONNX_OP({"Tan"}, unary<t_tan>);
REGISTER_ONNX_OP({"Atan"}, unary<t_atan>);
REGISTER_ONNX_OP({"Erf"}, unary<t_erf>);
REGISTER_ONNX_OP({"Tanh"}, unary<t_tanh>);
REGISTER_ONNX_OP({"Sign"}, unary<t_sign>);
REGISTER_ONNX_OP({"Not"}, unary<t_not>);
REGISTER_ONNX_OP({"IsNaN"}, unary<t_isnan>);
REGISTER_ONNX_OP({"IsInf"}, isinf);
REGISTER_ONNX_OP({"Equal"}, broadcasting([](OpContext& c) -> Ts { return {at::eq(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"Less"}, broadcasting([](OpContext& c) -> Ts { return {at::lt(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"LessOrEqual"}, broadcasting([](OpContext& c) -> Ts { return {at::le(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"Greater"}, broadcasting([](OpContext& c) -> Ts { return {at::gt(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"GreaterOrEqual"}, broadcasting([](OpContext& c) -> Ts { return {at::ge(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"And"}, broadcasting([](OpContext& c) -> Ts { return {at::logical_and(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"Or"}, broadcasting([](OpContext& c) -> Ts { return {at::logical_or(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"Xor"}, broadcasting([](OpContext& c) -> Ts { return {at::logical_xor(c.input(0), c.input(1))}; }));
REGISTER_ONNX_OP({"Where"}, broadcasting(where));
REGISTER_ONNX_OP({"BitShift"}, broadcasting(bitshift));

}  // namespace mlopt::onnx_eval
