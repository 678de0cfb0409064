// Ops that move elements around without arithmetic: roll, repeat_interleave,
// diagonal, broadcast_tensors, meshgrid. Sizes are read from the input at run time where
// the op allows it, so dynamic dims survive.
#include <algorithm>
#include <limits>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::string slice_1d(Context& ctx, const std::string& x, const std::string& start, const std::string& end, int64_t dim) {
  return ctx.b().add1("Slice", {x, start, end, ctx.b().ints({dim})});
}

// roll(x, shifts, dims): per dim, the last (shift mod L) elements move to the
// front: Concat(x[L - s:], x[:L - s]) with s = shift mod L (Python's mod, so
// negative shifts roll left). No dims: the flattened tensor rolls, then takes
// its shape back.
void convert_roll(Context& ctx) {
  auto shifts = ctx.to_ints(1);
  auto dims = ctx.num_inputs() > 2 ? ctx.to_ints(2) : std::vector<int64_t>{};
  std::string x = ctx.tensor(0);
  auto& g = ctx.b();
  std::string shape;
  if (dims.empty()) {
    if (shifts.size() != 1) ctx.fail_op("without dims, roll takes one shift");
    shape = shape_of(ctx, x);
    x = g.add1("Reshape", {x, g.ints({-1})});
    dims = {0};
  }
  if (shifts.size() != dims.size()) ctx.fail_op("shifts and dims differ in length");
  int64_t rank = shape.empty() ? ctx.rank(0) : 1;
  for (size_t k = 0; k < dims.size(); ++k) {
    int64_t d = normalize_dim(dims[k], rank);
    std::string L = g.add1("Gather", {g.add1("Shape", {x}), g.ints({d})}, {{"axis", int64_t{0}}});
    // L - (shift mod L); an empty dim stays empty (Mod by 0 is avoided with Max(L, 1)).
    std::string safe_L = g.add1("Max", {L, g.ints({1})});
    std::string split = g.add1("Sub", {L, g.add1("Mod", {g.ints({shifts[k]}), safe_L}, {{"fmod", int64_t{0}}})});
    std::string tail = slice_1d(ctx, x, split, g.ints({std::numeric_limits<int64_t>::max()}), d);
    std::string head = slice_1d(ctx, x, g.ints({0}), split, d);
    x = g.add1("Concat", {tail, head}, {{"axis", d}});
  }
  if (!shape.empty()) x = g.add1("Reshape", {x, shape});
  ctx.set_tensor(0, x);
}

// repeat_interleave(x, repeats: int, dim): each element repeated in place:
// Unsqueeze after dim, Expand there, merge the two dims. No dim: flattened
// first. Per-element repeats (a constant tensor) over a static dim: a Gather.
void convert_repeat_interleave(Context& ctx) {
  if (!schema_arg(ctx.node(), "self")) ctx.fail_op("repeat_interleave(repeats) without an input tensor is not supported");
  auto& g = ctx.b();
  std::string x = ctx.tensor(0);
  int64_t rank = ctx.rank(0);
  std::optional<int64_t> dim_arg;
  if (auto i = schema_arg(ctx.node(), "dim"); i && !ctx.is_none(*i)) dim_arg = ctx.to_int(*i);
  if (!dim_arg) {
    x = g.add1("Reshape", {x, g.ints({-1})});
    rank = 1;
  }
  int64_t dim = dim_arg ? normalize_dim(*dim_arg, rank) : 0;
  auto repeats = ctx.constant(1);
  if (repeats.isTensor() && repeats.toTensor().numel() == 1) repeats = repeats.toTensor().item<int64_t>();
  if (repeats.isInt()) {
    int64_t r = repeats.toInt();
    std::string shape = g.add1("Shape", {x});
    std::string u = unsqueeze(ctx, x, {dim + 1});
    std::string target = g.add1("Concat", {g.add1("Slice", {shape, g.ints({0}), g.ints({dim + 1})}), g.ints({r}),
                                           g.add1("Slice", {shape, g.ints({dim + 1}), g.ints({rank})})},
                                {{"axis", int64_t{0}}});
    std::string expanded = g.add1("Expand", {u, target});
    std::string merged = g.add1("Concat", {g.add1("Slice", {shape, g.ints({0}), g.ints({dim})}),
                                           g.add1("Mul", {g.add1("Slice", {shape, g.ints({dim}), g.ints({dim + 1})}), g.ints({r})}),
                                           g.add1("Slice", {shape, g.ints({dim + 1}), g.ints({rank})})},
                                {{"axis", int64_t{0}}});
    ctx.set_tensor(0, g.add1("Reshape", {expanded, merged}));
    return;
  }
  at::Tensor reps = repeats.toTensor().to(at::kLong).reshape({-1});
  std::vector<int64_t> index;
  for (int64_t i = 0; i < reps.numel(); ++i)
    for (int64_t k = 0; k < reps[i].item<int64_t>(); ++k) index.push_back(i);
  ctx.set_tensor(0, g.add1("Gather", {x, g.ints(index)}, {{"axis", dim}}));
}

// diagonal(x, offset, dim1, dim2): dim1 and dim2 move to the end, merge, and
// the diagonal's flat positions i * n2 + i + offset (offset < 0: (i - offset) * n2 + i)
// are gathered; the result's last dim is the diagonal (as in PyTorch).
void convert_diagonal(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t offset = ctx.num_inputs() > 1 ? ctx.to_int(1) : 0;
  int64_t d1 = normalize_dim(ctx.num_inputs() > 2 ? ctx.to_int(2) : 0, rank);
  int64_t d2 = normalize_dim(ctx.num_inputs() > 3 ? ctx.to_int(3) : 1, rank);
  if (d1 == d2) ctx.fail_op("dim1 and dim2 must differ");
  auto ti = ctx.info(0);
  if (!ti || ti->dynamic[d1] || ti->dynamic[d2]) ctx.fail_op("the diagonal's dims must have static sizes");
  int64_t n1 = ti->sizes[d1], n2 = ti->sizes[d2];
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < rank; ++d)
    if (d != d1 && d != d2) perm.push_back(d);
  perm.push_back(d1);
  perm.push_back(d2);
  auto& g = ctx.b();
  std::string t = g.add1("Transpose", {ctx.tensor(0)}, {{"perm", perm}});
  std::string lead = g.add1("Slice", {g.add1("Shape", {t}), g.ints({0}), g.ints({rank - 2})});
  std::string flat = g.add1("Reshape", {t, g.add1("Concat", {lead, g.ints({n1 * n2})}, {{"axis", int64_t{0}}})});
  std::vector<int64_t> index;
  for (int64_t i = 0;; ++i) {
    int64_t row = offset >= 0 ? i : i - offset, col = offset >= 0 ? i + offset : i;
    if (row >= n1 || col >= n2) break;
    index.push_back(row * n2 + col);
  }
  ctx.set_tensor(0, g.add1("Gather", {flat, g.ints(index)}, {{"axis", rank - 2}}));
}

c10::ScalarType item_dtype(const ValPtr& v) { return v->is_dynamic() ? v->dtype : v->constant.toTensor().scalar_type(); }

// broadcast_tensors([a, b, ...]): Expand broadcasts both ways, so expanding
// through every input's shape gives the common shape, which each input then takes.
void convert_broadcast_tensors(Context& ctx) {
  auto items = list_items(ctx, 0);
  auto& g = ctx.b();
  std::vector<std::string> names;
  for (auto& item : items) names.push_back(ctx.materialize(item));
  std::string common = g.add1("Shape", {names[0]});
  for (size_t k = 1; k < names.size(); ++k) common = g.add1("Shape", {g.add1("Expand", {names[k], common})});
  int64_t rank = -1;
  for (auto& item : items)
    rank = std::max(rank, item->is_dynamic() ? item->rank : static_cast<int64_t>(item->constant.toTensor().dim()));
  std::vector<ValPtr> outs;
  for (size_t k = 0; k < names.size(); ++k) {
    outs.push_back(Val::of_tensor(g.add1("Expand", {names[k], common}), item_dtype(items[k]), rank));
  }
  ctx.set(0, Val::of_list(outs, false));
}

// meshgrid([t0, t1, ...], indexing): 1-D (or 0-d) inputs; output k is t_k laid
// along its own axis and expanded to [len(t0), len(t1), ...] ("ij"); "xy"
// swaps the first two axes (torchvision's anchor grids use both).
void convert_meshgrid(Context& ctx) {
  auto items = list_items(ctx, 0);
  std::string indexing = ctx.num_inputs() > 1 && !ctx.is_none(1) ? ctx.constant(1).toStringRef() : "ij";
  if (indexing != "ij" && indexing != "xy") ctx.fail_op("indexing '" + indexing + "': expected 'ij' or 'xy'");
  auto& g = ctx.b();
  const int64_t n = static_cast<int64_t>(items.size());
  std::vector<int64_t> axis(n);
  for (int64_t k = 0; k < n; ++k) axis[k] = k;
  if (indexing == "xy" && n >= 2) std::swap(axis[0], axis[1]);
  std::vector<std::string> flat(n), lengths(n);
  for (int64_t k = 0; k < n; ++k) {
    flat[k] = g.add1("Reshape", {ctx.materialize(items[k]), g.ints({-1})});
    lengths[axis[k]] = g.add1("Shape", {flat[k]});
  }
  std::string shape = n == 1 ? lengths[0] : g.add1("Concat", lengths, {{"axis", int64_t{0}}});
  std::vector<ValPtr> outs;
  for (int64_t k = 0; k < n; ++k) {
    std::vector<int64_t> laid(n, 1);
    laid[axis[k]] = -1;
    std::string placed = g.add1("Reshape", {flat[k], g.ints(laid)});
    outs.push_back(Val::of_tensor(g.add1("Expand", {placed, shape}), item_dtype(items[k]), n));
  }
  ctx.set(0, Val::of_list(outs, false));
}

}  // namespace

REGISTER_CONVERTER({"aten::roll"}, convert_roll);
REGISTER_CONVERTER({"aten::repeat_interleave"}, convert_repeat_interleave);
REGISTER_CONVERTER({"aten::diagonal"}, convert_diagonal);
REGISTER_CONVERTER({"aten::broadcast_tensors"}, convert_broadcast_tensors);
REGISTER_CONVERTER({"aten::meshgrid"}, convert_meshgrid);

}  // namespace mlopt::onnx_export
