// Reductions: sum/mean/amax/amin/prod over dims (keepdim), max/min (all, dim,
// or elementwise), argmax/argmin, var/std (and _mean), cumsum.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::vector<int64_t> dims_arg(Context& ctx, size_t i) {
  if (i >= ctx.num_inputs() || ctx.is_none(i)) return {};
  return ctx.to_ints(i);
}

// Opset 13+: ReduceSum takes axes as an input; the others as an attribute (until 18).
std::string reduce(Context& ctx, const std::string& op, const std::string& x, const std::vector<int64_t>& axes,
                   bool keepdim) {
  if (op == "ReduceSum") {
    std::vector<std::string> ins{x};
    if (!axes.empty()) ins.push_back(ctx.b().ints(axes));
    return ctx.b().add1(op, ins, {{"keepdims", int64_t{keepdim}}});
  }
  if (axes.empty()) return ctx.b().add1(op, {x}, {{"keepdims", int64_t{keepdim}}});
  return ctx.b().add1(op, {x}, {{"axes", axes}, {"keepdims", int64_t{keepdim}}});
}

// sum/mean(x, dims, keepdim, dtype) or sum/mean(x, dtype)
void reduce_dims(Context& ctx, const std::string& op) {
  std::string x = ctx.tensor(0);
  std::vector<int64_t> axes;
  bool keepdim = false;
  if (ctx.num_inputs() >= 3) {  // the dim overloads: (x, dims, keepdim[, dtype])
    axes = dims_arg(ctx, 1);
    keepdim = ctx.to_bool(2);
  }
  auto out = ctx.out_dtype(0);
  if (out != ctx.dtype(0)) x = cast(ctx, x, out);
  ctx.set_tensor(0, reduce(ctx, op, x, axes, keepdim));
}
void convert_sum(Context& ctx) { reduce_dims(ctx, "ReduceSum"); }
void convert_mean(Context& ctx) { reduce_dims(ctx, "ReduceMean"); }
void convert_amax(Context& ctx) { reduce_dims(ctx, "ReduceMax"); }
void convert_amin(Context& ctx) { reduce_dims(ctx, "ReduceMin"); }

void convert_prod(Context& ctx) {
  std::string x = ctx.tensor(0);
  if (ctx.num_inputs() >= 3 && ctx.node()->input(1)->type()->kind() == c10::TypeKind::IntType) {
    ctx.set_tensor(0, reduce(ctx, "ReduceProd", x, {ctx.to_int(1)}, ctx.to_bool(2)));
    return;
  }
  ctx.set_tensor(0, reduce(ctx, "ReduceProd", x, {}, false));
}

// max(x) | max(x, dim, keepdim) -> (values, indices) | max(x, other)
void max_min(Context& ctx, bool is_max) {
  auto second = ctx.num_inputs() > 1 ? ctx.node()->input(1)->type()->kind() : c10::TypeKind::AnyType;
  if (ctx.num_inputs() == 2 && second == c10::TypeKind::TensorType) {
    ctx.set_tensor(0, ctx.b().add1(is_max ? "Max" : "Min", {ctx.tensor(0), ctx.tensor(1)}));
    return;
  }
  std::string x = ctx.tensor(0);
  if (ctx.num_inputs() == 1) {
    ctx.set_tensor(0, reduce(ctx, is_max ? "ReduceMax" : "ReduceMin", x, {}, false));
    return;
  }
  int64_t dim = ctx.to_int(1);
  bool keepdim = ctx.num_inputs() > 2 && ctx.to_bool(2);
  ctx.set_tensor(0, reduce(ctx, is_max ? "ReduceMax" : "ReduceMin", x, {dim}, keepdim));
  if (ctx.node()->outputs().size() > 1)
    ctx.set_tensor(1, ctx.b().add1(is_max ? "ArgMax" : "ArgMin", {x}, {{"axis", dim}, {"keepdims", int64_t{keepdim}}}));
}
void convert_max(Context& ctx) { max_min(ctx, true); }
void convert_min(Context& ctx) { max_min(ctx, false); }

void arg(Context& ctx, const std::string& op) {
  std::string x = ctx.tensor(0);
  bool keepdim = ctx.num_inputs() > 2 && ctx.to_bool(2);
  if (ctx.num_inputs() < 2 || ctx.is_none(1)) {
    x = ctx.b().add1("Reshape", {x, ctx.b().ints({-1})});
    ctx.set_tensor(0, ctx.b().add1(op, {x}, {{"axis", int64_t{0}}, {"keepdims", int64_t{0}}}));
    return;
  }
  ctx.set_tensor(0, ctx.b().add1(op, {x}, {{"axis", ctx.to_int(1)}, {"keepdims", int64_t{keepdim}}}));
}
void convert_argmax(Context& ctx) { arg(ctx, "ArgMax"); }
void convert_argmin(Context& ctx) { arg(ctx, "ArgMin"); }

// var/std/var_mean/std_mean, every overload: (x, unbiased), (x, dim,
// unbiased, keepdim), (x, dim, *, correction, keepdim). The divisor is
// max(N - correction, 0) as in PyTorch (0 gives inf or nan), with N read from
// the input's shape at run time when a reduced dim is dynamic.
struct VarianceArgs {
  std::vector<int64_t> axes;  // normalized; every dim when none are given
  double correction = 1;
  bool keepdim = false;
};

VarianceArgs variance_args(Context& ctx) {
  VarianceArgs args;
  int64_t rank = ctx.rank(0);
  const auto* node = ctx.node();
  if (auto i = schema_arg(node, "dim"); i && !ctx.is_none(*i)) args.axes = ctx.to_ints(*i);
  if (args.axes.empty())
    for (int64_t d = 0; d < rank; ++d) args.axes.push_back(d);
  for (auto& a : args.axes) a = a < 0 ? a + rank : a;
  if (auto i = schema_arg(node, "unbiased")) args.correction = ctx.to_bool(*i) ? 1 : 0;
  if (auto i = schema_arg(node, "correction"); i && !ctx.is_none(*i)) args.correction = ctx.to_double(*i);
  if (auto i = schema_arg(node, "keepdim")) args.keepdim = ctx.to_bool(*i);
  return args;
}

// Number of elements reduced over, in `type` (a constant when the dims are static).
std::string reduced_count(Context& ctx, const std::string& x, const std::vector<int64_t>& axes, c10::ScalarType type) {
  auto ti = ctx.info(0);
  bool is_static = ti.has_value();
  int64_t n = 1;
  for (auto a : axes) {
    if (!ti || ti->dynamic[a]) is_static = false;
    else n *= ti->sizes[a];
  }
  if (is_static) return ctx.b().constant(torch::scalar_tensor(static_cast<double>(n), type), "count");
  std::string dims = ctx.b().add1("Gather", {shape_of(ctx, x), ctx.b().ints(axes)}, {{"axis", int64_t{0}}});
  return cast(ctx, ctx.b().add1("ReduceProd", {dims}, {{"keepdims", int64_t{0}}}), type);
}

// Returns (variance, mean with the output's keepdim).
std::pair<std::string, std::string> variance(Context& ctx) {
  auto args = variance_args(ctx);
  std::string x = ctx.tensor(0);
  auto type = ctx.dtype(0);
  if (!c10::isFloatingType(type)) ctx.fail_op("var/std of an integer tensor");
  std::string mean = reduce(ctx, "ReduceMean", x, args.axes, true);
  std::string centered = ctx.b().add1("Sub", {x, mean});
  std::string sum = reduce(ctx, "ReduceSum", ctx.b().add1("Mul", {centered, centered}), args.axes, args.keepdim);
  std::string n = reduced_count(ctx, x, args.axes, type);
  std::string divisor = ctx.b().add1("Sub", {n, ctx.b().constant(torch::scalar_tensor(args.correction, type), "correction")});
  divisor = ctx.b().add1("Max", {divisor, ctx.b().constant(torch::scalar_tensor(0.0, type), "zero")});
  std::string var = ctx.b().add1("Div", {sum, divisor});
  if (!args.keepdim) mean = reduce(ctx, "ReduceMean", x, args.axes, false);
  return {var, mean};
}

void convert_var(Context& ctx) { ctx.set_tensor(0, variance(ctx).first); }
void convert_std(Context& ctx) { ctx.set_tensor(0, sqrt_of(ctx, variance(ctx).first)); }
void convert_var_mean(Context& ctx) {
  auto [var, mean] = variance(ctx);
  ctx.set_tensor(0, var);
  ctx.set_tensor(1, mean);
}
void convert_std_mean(Context& ctx) {
  auto [var, mean] = variance(ctx);
  ctx.set_tensor(0, sqrt_of(ctx, var));
  ctx.set_tensor(1, mean);
}

void convert_cumsum(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("CumSum", {ctx.tensor(0), ctx.b().scalar_int(ctx.to_int(1))}));
}

// any/all over every element (torch.any(x)) or a dim.
void any_all(Context& ctx, bool any) {
  std::string x = cast(ctx, ctx.tensor(0), at::kLong);
  std::vector<int64_t> axes;
  bool keepdim = false;
  if (ctx.num_inputs() >= 3) {
    axes = {ctx.to_int(1)};
    keepdim = ctx.to_bool(2);
  }
  std::string r = reduce(ctx, any ? "ReduceMax" : "ReduceMin", x, axes, keepdim);
  ctx.set_tensor(0, cast(ctx, r, at::kBool));
}
void convert_any(Context& ctx) { any_all(ctx, true); }
void convert_all(Context& ctx) { any_all(ctx, false); }

}  // namespace

REGISTER_CONVERTER({"aten::sum"}, convert_sum);
REGISTER_CONVERTER({"aten::mean"}, convert_mean);
REGISTER_CONVERTER({"aten::amax"}, convert_amax);
REGISTER_CONVERTER({"aten::amin"}, convert_amin);
REGISTER_CONVERTER({"aten::prod"}, convert_prod);
REGISTER_CONVERTER({"aten::max"}, convert_max);
REGISTER_CONVERTER({"aten::min"}, convert_min);
REGISTER_CONVERTER({"aten::argmax"}, convert_argmax);
REGISTER_CONVERTER({"aten::argmin"}, convert_argmin);
REGISTER_CONVERTER({"aten::var"}, convert_var);
REGISTER_CONVERTER({"aten::std"}, convert_std);
REGISTER_CONVERTER({"aten::var_mean"}, convert_var_mean);
REGISTER_CONVERTER({"aten::std_mean"}, convert_std_mean);
REGISTER_CONVERTER({"aten::cumsum"}, convert_cumsum);
REGISTER_CONVERTER({"aten::any"}, convert_any);
REGISTER_CONVERTER({"aten::all"}, convert_all);

}  // namespace mlopt::onnx_export
