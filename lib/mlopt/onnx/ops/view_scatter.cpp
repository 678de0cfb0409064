// slice_scatter / select_scatter: a slice or select of x replaced by src, as
// the write-back of in-place ops on views leaves them (onnx/view_mutation.h).
// ONNX ScatterElements along the dim, with the positions the slice selects
// taken from Range(0, size) by the same Slice (so negative and out-of-range
// bounds clamp as they do in the slice), broadcast to src's shape.
#include <limits>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

int64_t normalized_dim(Context& ctx, size_t i, int64_t rank) {
  int64_t d = ctx.to_int(i);
  return d < 0 ? d + rank : d;
}

// Input i as a 1-D [1] int64 bound, or `fallback` when None.
std::string bound_1d(Context& ctx, size_t i, int64_t fallback) {
  if (i >= ctx.num_inputs() || ctx.is_none(i)) return ctx.b().ints({fallback});
  if (ctx.is_constant(i)) return ctx.b().ints({ctx.to_int(i)});
  return unsqueeze(ctx, ctx.tensor_as(i, at::kLong), {0});
}

// Positions 0..size-1 of x along dim, as a 1-D int64 tensor.
std::string positions(Context& ctx, const std::string& x, int64_t dim) {
  auto& g = ctx.b();
  std::string size = squeeze(ctx, dim_1d(ctx, x, dim), {0});
  return g.add1("Range", {g.scalar_int(0), size, g.scalar_int(1)});
}

// x with the elements at `index` (1-D) along dim replaced by src (src's dim
// has the index's length).
void scatter_along(Context& ctx, const std::string& x, const std::string& index, const std::string& src,
                   int64_t dim, int64_t rank) {
  auto& g = ctx.b();
  std::vector<int64_t> along(static_cast<size_t>(rank), 1);
  along[static_cast<size_t>(dim)] = -1;
  std::string shaped = g.add1("Reshape", {index, g.ints(along)});
  std::string expanded = g.add1("Expand", {shaped, shape_of(ctx, src)});
  ctx.set_tensor(0, g.add1("ScatterElements", {x, expanded, cast(ctx, src, ctx.dtype(0))}, {{"axis", dim}}, "scatter"));
}

// slice_scatter(x, src, dim, start, end, step)
void convert_slice_scatter(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t dim = normalized_dim(ctx, 2, rank);
  int64_t step = ctx.num_inputs() > 5 && !ctx.is_none(5) ? ctx.to_int(5) : 1;
  bool full = (ctx.is_none(3) || (ctx.is_constant(3) && ctx.to_int(3) == 0)) &&
              (ctx.is_none(4) || (ctx.is_constant(4) && ctx.to_int(4) >= std::numeric_limits<int32_t>::max())) &&
              step == 1;
  if (full) {  // the whole of x: src, in x's dtype
    ctx.set_tensor(0, cast(ctx, ctx.tensor(1), ctx.dtype(0)));
    return;
  }
  const std::string x = ctx.tensor(0);
  std::string index = ctx.b().add1("Slice", {positions(ctx, x, dim), bound_1d(ctx, 3, 0),
                                              bound_1d(ctx, 4, std::numeric_limits<int64_t>::max()), ctx.b().ints({0}),
                                              ctx.b().ints({step})});
  scatter_along(ctx, x, index, ctx.tensor(1), dim, rank);
}

// select_scatter(x, src, dim, index): src has x's rank less the dim.
void convert_select_scatter(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t dim = normalized_dim(ctx, 2, rank);
  const std::string x = ctx.tensor(0);
  // Gather takes a negative index from the end, as select does.
  std::string index = ctx.b().add1("Gather", {positions(ctx, x, dim), bound_1d(ctx, 3, 0)}, {{"axis", int64_t{0}}});
  scatter_along(ctx, x, index, unsqueeze(ctx, ctx.tensor(1), {dim}), dim, rank);
}

}  // namespace

REGISTER_CONVERTER({"aten::slice_scatter"}, convert_slice_scatter);
REGISTER_CONVERTER({"aten::select_scatter"}, convert_select_scatter);

}  // namespace mlopt::onnx_export
