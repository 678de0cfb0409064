// Norms: linalg_vector_norm, linalg_norm (vector norms, and the matrix norms
// 'fro', 1, -1, inf, -inf), norm (every p/dim/keepdim/dtype overload),
// frobenius_norm. Vector norm of order p over dims (None: every dim):
// p=2 ReduceL2, p=1 ReduceL1, inf/-inf ReduceMax/ReduceMin of Abs, p=0 the
// count of non-zeros (NaN counts), other p (sum |x|^p)^(1/p). A dtype
// argument casts the input first, as PyTorch does.
#include <cmath>
#include <limits>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

// Opsets 13-17: ReduceSum takes its axes as an input, the other reductions as
// an attribute. No axes: every dim.
std::string reduce(Context& ctx, const std::string& op, const std::string& x, const std::vector<int64_t>& axes,
                   bool keepdim) {
  auto& g = ctx.b();
  if (op == "ReduceSum") {
    std::vector<std::string> ins{x};
    if (!axes.empty()) ins.push_back(g.ints(axes));
    return g.add1(op, ins, {{"keepdims", int64_t{keepdim}}});
  }
  if (axes.empty()) return g.add1(op, {x}, {{"keepdims", int64_t{keepdim}}});
  return g.add1(op, {x}, {{"axes", axes}, {"keepdims", int64_t{keepdim}}});
}

std::string scalar(Context& ctx, double v, c10::ScalarType type, const std::string& stem) {
  return ctx.b().constant(torch::scalar_tensor(v, type), stem);
}

// ReduceMax / ReduceMin that give NaN where a reduced element is NaN, as
// PyTorch's amax/amin do (ONNX Runtime's skip NaN).
std::string reduce_extreme(Context& ctx, const std::string& op, const std::string& x, const std::vector<int64_t>& axes,
                           bool keepdim, c10::ScalarType type) {
  auto& g = ctx.b();
  std::string r = reduce(ctx, op, x, axes, keepdim);
  std::string any_nan = reduce(ctx, "ReduceMax", cast(ctx, g.add1("IsNaN", {x}), type), axes, keepdim);
  std::string nan = scalar(ctx, std::numeric_limits<double>::quiet_NaN(), type, "nan");
  return g.add1("Where", {cast(ctx, any_nan, at::kBool), nan, r});
}

// The vector norm of order p of x (already in the output's dtype `type`).
std::string vector_norm(Context& ctx, const std::string& x, double p, const std::vector<int64_t>& axes, bool keepdim,
                        c10::ScalarType type) {
  auto& g = ctx.b();
  if (p == 2) return reduce(ctx, "ReduceL2", x, axes, keepdim);
  if (p == 1) return reduce(ctx, "ReduceL1", x, axes, keepdim);
  if (std::isinf(p)) return reduce_extreme(ctx, p > 0 ? "ReduceMax" : "ReduceMin", g.add1("Abs", {x}), axes, keepdim, type);
  if (p == 0) {
    std::string nonzero = g.add1("Not", {g.add1("Equal", {x, scalar(ctx, 0, type, "zero")})});
    return reduce(ctx, "ReduceSum", cast(ctx, nonzero, type), axes, keepdim);
  }
  std::string powered = g.add1("Pow", {g.add1("Abs", {x}), scalar(ctx, p, type, "p")});
  return g.add1("Pow", {reduce(ctx, "ReduceSum", powered, axes, keepdim), scalar(ctx, 1.0 / p, type, "inv_p")});
}

// Input 0 in the output's floating dtype (the dtype argument, or the input's).
std::string input_as_output_type(Context& ctx, c10::ScalarType* type) {
  *type = ctx.out_dtype(0);
  if (!c10::isFloatingType(*type)) ctx.fail_op(fmt::format("a norm needs a floating-point input, got {}", c10::toString(*type)));
  std::string x = ctx.tensor(0);
  if (ctx.dtype(0) != *type) x = cast(ctx, x, *type);
  return x;
}

// The dims argument named `name` (None or absent: every dim, as []).
std::vector<int64_t> dims_named(Context& ctx, const std::string& name) {
  auto i = schema_arg(ctx.node(), name);
  if (!i || ctx.is_none(*i)) return {};
  auto type = ctx.node()->input(*i)->type();
  if (type->kind() == c10::TypeKind::IntType) return {ctx.to_int(*i)};
  return ctx.to_ints(*i);
}

bool keepdim_arg(Context& ctx) {
  auto i = schema_arg(ctx.node(), "keepdim");
  return i && ctx.to_bool(*i);
}

// The order argument named `name` as a number (None: `fallback`).
double order_named(Context& ctx, const std::string& name, double fallback) {
  auto i = schema_arg(ctx.node(), name);
  if (!i || ctx.is_none(*i)) return fallback;
  if (!ctx.is_constant(*i)) ctx.fail_op(fmt::format("the norm's order '{}' must be known at export time", name));
  return ctx.to_double(*i);
}

// linalg_vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None)
void convert_linalg_vector_norm(Context& ctx) {
  c10::ScalarType type;
  std::string x = input_as_output_type(ctx, &type);
  ctx.set_tensor(0, vector_norm(ctx, x, order_named(ctx, "ord", 2), dims_named(ctx, "dim"), keepdim_arg(ctx), type));
}

// norm(x, p=2) | norm(x, p?, dim, keepdim=False) | norm(x, p?, dim, keepdim, *, dtype) | norm(x, p?, *, dtype)
void convert_norm(Context& ctx) {
  c10::ScalarType type;
  std::string x = input_as_output_type(ctx, &type);
  ctx.set_tensor(0, vector_norm(ctx, x, order_named(ctx, "p", 2), dims_named(ctx, "dim"), keepdim_arg(ctx), type));
}

// frobenius_norm(x) | frobenius_norm(x, dim, keepdim): the 2-norm over dims.
void convert_frobenius_norm(Context& ctx) {
  c10::ScalarType type;
  std::string x = input_as_output_type(ctx, &type);
  ctx.set_tensor(0, vector_norm(ctx, x, 2, dims_named(ctx, "dim"), keepdim_arg(ctx), type));
}

// The matrix norm over (row, col) dims: 'fro' (2-norm of the elements), 1 / -1
// (max / min over columns of the column sums of |x|), inf / -inf (the same
// over rows).
std::string matrix_norm(Context& ctx, const std::string& x, const std::string& ord, int64_t row, int64_t col,
                        bool keepdim, c10::ScalarType type) {
  if (ord == "fro") return vector_norm(ctx, x, 2, {row, col}, keepdim, type);
  if (ord == "nuc" || ord == "2" || ord == "-2")
    ctx.fail_op(fmt::format("the matrix norm ord={} needs singular values, which ONNX has no op for", ord));
  bool columns = ord == "1" || ord == "-1";
  bool largest = ord == "1" || ord == "inf";
  if (!columns && ord != "inf" && ord != "-inf")
    ctx.fail_op(fmt::format("matrix norm ord={} is not one of 'fro', 1, -1, inf, -inf", ord));
  int64_t summed = columns ? row : col, picked = columns ? col : row;
  std::string sums = reduce(ctx, "ReduceSum", ctx.b().add1("Abs", {x}), {summed}, true);
  std::string r = reduce_extreme(ctx, largest ? "ReduceMax" : "ReduceMin", sums, {picked}, true, type);
  return keepdim ? r : squeeze(ctx, r, {std::min(row, col), std::max(row, col)});
}

std::string order_text(double p) {
  if (std::isinf(p)) return p > 0 ? "inf" : "-inf";
  return fmt::format("{}", p);
}

// linalg_norm(x, ord=None, dim=None, keepdim=False, *, dtype=None) and its
// ord_str overload ('fro', 'nuc'). ord None: the 2-norm of every element
// (dim None) or over the given dims; a number with one dim (or a 1-D input)
// is a vector norm, with two dims (or a 2-D input) a matrix norm.
void convert_linalg_norm(Context& ctx) {
  c10::ScalarType type;
  std::string x = input_as_output_type(ctx, &type);
  int64_t rank = ctx.rank(0);
  auto dims = dims_named(ctx, "dim");
  bool keepdim = keepdim_arg(ctx);
  auto ord_index = schema_arg(ctx.node(), "ord");
  bool ord_none = !ord_index || ctx.is_none(*ord_index);
  bool ord_string = !ord_none && ctx.node()->input(*ord_index)->type()->kind() == c10::TypeKind::StringType;
  if (ord_none) {
    ctx.set_tensor(0, vector_norm(ctx, x, 2, dims, keepdim, type));
    return;
  }
  if (dims.empty())
    for (int64_t d = 0; d < rank; ++d) dims.push_back(d);
  for (auto& d : dims) d = d < 0 ? d + rank : d;
  if (dims.size() == 1 && !ord_string) {
    ctx.set_tensor(0, vector_norm(ctx, x, ctx.to_double(*ord_index), dims, keepdim, type));
    return;
  }
  if (dims.size() != 2)
    ctx.fail_op(fmt::format("linalg_norm with ord given needs 1 or 2 dims (a vector or matrix norm), got {}", dims.size()));
  std::string ord = ord_string ? ctx.constant(*ord_index).toStringRef() : order_text(ctx.to_double(*ord_index));
  ctx.set_tensor(0, matrix_norm(ctx, x, ord, dims[0], dims[1], keepdim, type));
}

}  // namespace

REGISTER_CONVERTER({"aten::linalg_vector_norm"}, convert_linalg_vector_norm);
REGISTER_CONVERTER({"aten::linalg_norm"}, convert_linalg_norm);
REGISTER_CONVERTER({"aten::norm"}, convert_norm);
REGISTER_CONVERTER({"aten::frobenius_norm"}, convert_frobenius_norm);

}  // namespace mlopt::onnx_export
