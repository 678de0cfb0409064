// Values made by the graph: Constant, ConstantOfShape, Range, Cast, CastLike,
// Dropout (inference: identity), Trilu, EyeLike, OneHot, NonZero, CumSum.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"
#include "mlopt/onnx/proto/dtype.h"
#include "mlopt/onnx/proto/tensor.h"

namespace mlopt::onnx_eval {

using onnx_proto::scalar_type_of_onnx;
using onnx_proto::tensor_from_proto;
namespace {

using Ts = std::vector<at::Tensor>;

Ts constant(OpContext& c) {
  if (const auto* a = c.attribute("value")) return {tensor_from_proto(a->t(), "Constant value")};
  if (const auto* a = c.attribute("value_float")) return {torch::scalar_tensor(a->f(), at::kFloat)};
  if (const auto* a = c.attribute("value_int")) return {torch::scalar_tensor(a->i(), at::kLong)};
  if (const auto* a = c.attribute("value_floats"))
    return {torch::tensor(std::vector<float>(a->floats().begin(), a->floats().end()), at::kFloat)};
  if (const auto* a = c.attribute("value_ints"))
    return {torch::tensor(std::vector<int64_t>(a->ints().begin(), a->ints().end()), at::kLong)};
  c.fail("Constant without a supported value attribute (value, value_float(s), value_int(s))");
}

Ts constant_of_shape(OpContext& c) {
  auto shape = to_int_vector(c.input(0));
  at::Tensor value = c.has_attr("value") ? tensor_from_proto(c.attribute("value")->t(), "ConstantOfShape value")
                                         : torch::zeros({1}, at::kFloat);
  if (value.numel() == 0) c.fail("the 'value' attribute holds no element");
  check_value_shape(c, shape, "the output shape");
  return {at::full(shape, value.reshape({-1})[0].item(), value.options())};
}

Ts range(OpContext& c) {
  const auto &start = c.input(0), &limit = c.input(1), &delta = c.input(2);
  auto type = start.scalar_type();
  if (start.is_floating_point()) {
    double s = start.item<double>(), l = limit.item<double>(), d = delta.item<double>();
    double count = std::max(0.0, std::ceil((l - s) / d));
    check_value_elements(c, count, fmt::format("the range {}..{} by {}", s, l, d));
    auto n = static_cast<int64_t>(count);
    return {(at::arange(n, at::kDouble) * d + s).to(type)};
  }
  int64_t s = start.item<int64_t>(), l = limit.item<int64_t>(), d = delta.item<int64_t>();
  if (d == 0) c.fail("delta is 0");
  // In double: l - s overflows int64 for hostile bounds.
  double count = std::max(0.0, std::ceil((static_cast<double>(l) - static_cast<double>(s)) / static_cast<double>(d)));
  check_value_elements(c, count, fmt::format("the range {}..{} by {}", s, l, d));
  auto n = static_cast<int64_t>(count);
  return {(at::arange(n, at::kLong) * d + s).to(type)};
}

// Float to integer truncates toward zero in both ONNX and ATen. Float to
// bfloat16 keeps the float's upper 16 bits, as the ONNX reference does
// (ATen rounds to nearest even, one bfloat16 step away at times).
at::Tensor cast_to(const at::Tensor& x, c10::ScalarType type) {
  if (type != at::kBFloat16 || !x.is_floating_point() || x.scalar_type() == at::kBFloat16) return x.to(type);
  auto bits = x.to(at::kFloat).contiguous().view(at::kInt);
  return at::bitwise_right_shift(bits, 16).to(at::kShort).view(at::kBFloat16);
}

Ts cast(OpContext& c) {
  return {cast_to(c.input(0), scalar_type_of_onnx(static_cast<int32_t>(c.attr_int("to", 1)), "Cast 'to'"))};
}

// Ones on the k-th diagonal of a 2-D shape like the input's.
Ts eye_like(OpContext& c) {
  const auto& x = c.input(0);
  if (x.dim() != 2) c.fail(fmt::format("the input must be 2-D, got {} dim(s)", x.dim()));
  auto type = c.has_attr("dtype") ? scalar_type_of_onnx(static_cast<int32_t>(c.attr_int("dtype", 1)), "EyeLike dtype")
                                  : x.scalar_type();
  int64_t k = c.attr_int("k", 0);
  auto rows = at::arange(x.size(0), at::kLong).unsqueeze(1), cols = at::arange(x.size(1), at::kLong).unsqueeze(0);
  return {(cols - rows).eq(k).to(type)};
}

Ts trilu(OpContext& c) {
  const auto& x = c.input(0);
  int64_t k = c.has_input(1) ? c.input(1).item<int64_t>() : 0;
  return {c.attr_int("upper", 1) ? x.triu(k) : x.tril(k)};
}

Ts one_hot(OpContext& c) {
  auto indices = c.input(0).to(at::kLong);
  double depth_value = c.input(1).reshape({-1})[0].item<double>();
  if (!(depth_value >= 1)) c.fail(fmt::format("depth must be at least 1, got {}", depth_value));
  check_value_elements(c, static_cast<double>(indices.numel()) * depth_value, "the one-hot output");
  auto depth = static_cast<int64_t>(depth_value);
  const auto& values = c.input(2);
  if (values.numel() != 2) c.fail(fmt::format("'values' must hold 2 elements (off, on), got {}", values.numel()));
  indices = at::where(indices < 0, indices + depth, indices);
  auto valid = (indices >= 0).logical_and(indices < depth);
  auto hot = at::one_hot(indices.clamp(0, depth - 1), depth).logical_and(valid.unsqueeze(-1));
  int64_t axis = c.attr_int("axis", -1);
  int64_t rank = hot.dim();
  if (axis < 0) axis += rank;
  hot = hot.movedim(-1, axis);
  return {at::where(hot, values[1], values[0])};
}

Ts cumsum(OpContext& c) {
  at::Tensor x = c.input(0);
  int64_t axis = normalize_axis(c.input(1).item<int64_t>(), x.dim(), c);
  bool exclusive = c.attr_int("exclusive", 0), reverse = c.attr_int("reverse", 0);
  if (reverse) x = x.flip(axis);
  auto y = x.cumsum(axis).to(x.scalar_type());
  if (exclusive) y = y - x;
  if (reverse) y = y.flip(axis);
  return {y};
}

// Inference: the input passes through; the mask keeps everything. Training
// mode (opset 12+: the `training_mode` input) drops at random, which a
// reference evaluator cannot reproduce: refused unless the ratio is 0.
Ts dropout(OpContext& c) {
  bool training = c.has_input(2) && c.input(2).numel() == 1 && c.input(2).reshape({-1})[0].item<double>() != 0;
  double ratio = c.has_input(1) ? c.input(1).reshape({-1})[0].item<double>() : c.attr_float("ratio", 0.5);
  if (training && ratio != 0)
    c.fail(fmt::format("training-mode Dropout (ratio {}) drops at random; the evaluator runs inference only", ratio));
  return {c.input(0), at::ones_like(c.input(0), at::kBool)};
}

}  // namespace

REGISTER_ONNX_OP({"Constant"}, constant);
REGISTER_ONNX_OP({"ConstantOfShape"}, constant_of_shape);
REGISTER_ONNX_OP({"Range"}, range);
REGISTER_ONNX_OP({"Cast"}, cast);
REGISTER_ONNX_OP({"CastLike"}, [](OpContext& c) -> Ts { return {cast_to(c.input(0), c.input(1).scalar_type())}; });
REGISTER_ONNX_OP({"Dropout"}, dropout);
REGISTER_ONNX_OP({"Trilu"}, trilu);
REGISTER_ONNX_OP({"EyeLike"}, eye_like);
REGISTER_ONNX_OP({"OneHot"}, one_hot);
REGISTER_ONNX_OP({"NonZero"}, [](OpContext& c) -> Ts { return {at::nonzero(c.input(0)).t().contiguous()}; });
REGISTER_ONNX_OP({"CumSum"}, cumsum);

}  // namespace mlopt::onnx_eval
