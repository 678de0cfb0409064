// Sorting and data-dependent selection: topk, sort, argsort (TopK; ties keep
// index order, as a stable sort). nonzero and torch.where(cond) are in indexing.cpp.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

// An int argument (a constant or a number known at run time) as a [1] int64 tensor.
std::string int_1d(Context& ctx, size_t i) {
  if (ctx.is_constant(i)) return ctx.b().ints({ctx.to_int(i)});
  return ctx.b().add1("Reshape", {ctx.tensor_as(i, at::kLong), ctx.b().ints({1})});
}

int64_t dim_arg(Context& ctx, const char* name, int64_t fallback) {
  auto i = schema_arg(ctx.node(), name);
  if (!i || ctx.is_none(*i)) return fallback;
  int64_t d = ctx.to_int(*i);
  return d < 0 ? d + ctx.rank(0) : d;
}

bool bool_arg(Context& ctx, const char* name, bool fallback) {
  auto i = schema_arg(ctx.node(), name);
  if (!i || ctx.is_none(*i)) return fallback;
  return ctx.to_bool(*i);
}

// topk(x, k, dim=-1, largest=True, sorted=True) -> (values, indices).
void convert_topk(Context& ctx) {
  if (ctx.rank(0) == 0) ctx.fail_op("topk of a 0-d tensor is not supported");
  int64_t axis = dim_arg(ctx, "dim", ctx.rank(0) - 1);
  bool largest = bool_arg(ctx, "largest", true), sorted = bool_arg(ctx, "sorted", true);
  auto outs = ctx.b().add_node("TopK", {ctx.tensor(0), int_1d(ctx, 1)},
                               {{"axis", axis}, {"largest", int64_t{largest}}, {"sorted", int64_t{sorted}}}, 2, "topk");
  ctx.set_tensor(0, outs[0]);
  ctx.set_tensor(1, outs[1]);
}

// sort(x, dim, descending) / argsort: TopK over the whole dim (its size read
// at run time when it is dynamic).
void convert_sort(Context& ctx) {
  int64_t rank = ctx.rank(0);
  if (rank == 0) {
    ctx.set(0, ctx.in(0));
    if (ctx.node()->outputs().size() > 1) ctx.set(1, Val::of_constant(torch::zeros({}, at::kLong)));
    return;
  }
  int64_t axis = dim_arg(ctx, "dim", rank - 1);
  bool descending = bool_arg(ctx, "descending", false);
  std::string x = ctx.tensor(0);
  auto outs = ctx.b().add_node("TopK", {x, dim_1d(ctx, x, axis)},
                               {{"axis", axis}, {"largest", int64_t{descending}}, {"sorted", int64_t{1}}}, 2, "sort");
  if (ctx.node()->kind() == c10::aten::argsort) {
    ctx.set_tensor(0, outs[1]);
    return;
  }
  ctx.set_tensor(0, outs[0]);
  ctx.set_tensor(1, outs[1]);
}

}  // namespace

REGISTER_CONVERTER({"aten::topk"}, convert_topk);
REGISTER_CONVERTER({"aten::sort", "aten::argsort"}, convert_sort);

}  // namespace mlopt::onnx_export
