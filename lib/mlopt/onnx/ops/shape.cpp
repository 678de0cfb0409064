// Shape ops: view/reshape/flatten, (un)squeeze, permute/transpose, expand,
// repeat, cat/stack, split/chunk/unbind, slice/select/narrow, dtype casts.
// Sizes may be partly dynamic (x.size(0)): they become ONNX shape tensors.
#include <limits>

#include "mlopt/onnx/converter.h"
#include "mlopt/onnx/converter_driver.h"

namespace mlopt::onnx_export {
namespace {

void convert_reshape(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("Reshape", {ctx.tensor(0), ctx.ints_1d(1)}, {}, "reshape"));
}

void convert_reshape_as(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("Reshape", {ctx.tensor(0), shape_of(ctx, ctx.tensor(1))}, {}, "reshape"));
}

// flatten(x, start, end)
void convert_flatten(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t start = ctx.num_inputs() > 1 ? normalize_dim(ctx.to_int(1), rank) : 0;
  int64_t end = ctx.num_inputs() > 2 ? normalize_dim(ctx.to_int(2), rank) : rank - 1;
  std::string x = ctx.tensor(0);
  if (rank == 0) {
    ctx.set_tensor(0, ctx.b().add1("Reshape", {x, ctx.b().ints({1})}));
    return;
  }
  if (end == rank - 1 && start <= 1) {
    std::string y = ctx.b().add1("Flatten", {x}, {{"axis", start}}, "flatten");
    if (start == 0) y = ctx.b().add1("Reshape", {y, ctx.b().ints({-1})});
    ctx.set_tensor(0, y);
    return;
  }
  auto ti = ctx.info(0);
  std::vector<std::string> parts;
  if (start > 0) {
    parts.push_back(ctx.b().add1("Slice", {shape_of(ctx, x), ctx.b().ints({0}), ctx.b().ints({start})}));
  }
  parts.push_back(ctx.b().ints({-1}));
  if (end + 1 < rank)
    parts.push_back(ctx.b().add1("Slice", {shape_of(ctx, x), ctx.b().ints({end + 1}), ctx.b().ints({rank})}));
  std::string shape = parts.size() == 1 ? parts[0] : ctx.b().add1("Concat", parts, {{"axis", int64_t{0}}});
  if (ti && !ti->any_dynamic()) {
    std::vector<int64_t> s(ti->sizes.begin(), ti->sizes.begin() + start);
    s.push_back(-1);
    s.insert(s.end(), ti->sizes.begin() + end + 1, ti->sizes.end());
    shape = ctx.b().ints(s);
  }
  ctx.set_tensor(0, ctx.b().add1("Reshape", {x, shape}, {}, "flatten"));
}

void convert_unsqueeze(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t d = ctx.to_int(1);
  if (d < 0) d += rank + 1;
  ctx.set_tensor(0, unsqueeze(ctx, ctx.tensor(0), {d}));
}

// squeeze(x, d) where the size of d is known only at run time: an If that
// squeezes when it is 1 (the output's rank then depends on the input, as in PyTorch).
std::string squeeze_if_one(Context& ctx, const std::string& x, int64_t d) {
  auto& conv = ctx.converter();
  std::string size = ctx.b().add1("Gather", {shape_of(ctx, x), ctx.b().scalar_int(d)}, {{"axis", int64_t{0}}}, "dim");
  std::string is_one = ctx.b().add1("Equal", {size, ctx.b().scalar_int(1)});
  auto branch = [&](const char* stem, bool squeezed) {
    onnx::GraphProto* g = conv.new_subgraph();
    g->set_name(ctx.b().fresh(stem));
    ctx.b().push_graph(g);
    std::string y = squeezed ? squeeze(ctx, x, {d}) : ctx.b().add1("Identity", {x});
    ctx.b().pop_graph();
    auto* vi = g->add_output();
    vi->set_name(y);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx_dtype(ctx.dtype(0)));
    return g;
  };
  onnx::GraphProto* then_g = branch("then", true);
  onnx::GraphProto* else_g = branch("else", false);
  return ctx.b().add_node("If", {is_one}, {Attr("then_branch", *then_g), Attr("else_branch", *else_g)}, 1, "squeeze")[0];
}

// squeeze(x) / squeeze(x, dim): a dim that is not 1 is left alone (as in
// PyTorch); dims whose size changes at run time are decided at run time.
void convert_squeeze(Context& ctx) {
  auto ti = ctx.info(0);
  std::string x = ctx.tensor(0);
  if (ctx.num_inputs() == 1) {
    if (!ti) ctx.fail_op("input sizes unknown");
    if (ti->any_dynamic()) {
      ctx.set_tensor(0, ctx.b().add1("Squeeze", {x}));  // no axes: every dim of size 1 at run time
      return;
    }
    std::vector<int64_t> axes;
    for (int64_t d = 0; d < ti->rank(); ++d)
      if (ti->sizes[d] == 1) axes.push_back(d);
    ctx.set_tensor(0, axes.empty() ? x : squeeze(ctx, x, axes));
    return;
  }
  int64_t rank = ctx.rank(0);
  int64_t d = normalize_dim(ctx.to_int(1), rank);
  if (rank == 0) {
    ctx.set(0, ctx.in(0));
    return;
  }
  if (!ti || ti->dynamic[d]) {
    ctx.set_tensor(0, squeeze_if_one(ctx, x, d));
    return;
  }
  if (ti->sizes[d] != 1) {
    ctx.set(0, ctx.in(0));
    return;
  }
  ctx.set_tensor(0, squeeze(ctx, x, {d}));
}

void convert_permute(Context& ctx) {
  int64_t rank = ctx.rank(0);
  auto perm = ctx.to_ints(1);
  for (auto& p : perm) p = normalize_dim(p, rank);
  ctx.set_tensor(0, ctx.b().add1("Transpose", {ctx.tensor(0)}, {{"perm", perm}}));
}

void convert_transpose(Context& ctx) {
  int64_t rank = ctx.rank(0);
  std::vector<int64_t> perm(rank);
  for (int64_t d = 0; d < rank; ++d) perm[d] = d;
  if (ctx.node()->kind() == c10::aten::t) {
    if (rank < 2) {
      ctx.set(0, ctx.in(0));
      return;
    }
    std::swap(perm[0], perm[1]);
  } else {
    std::swap(perm[normalize_dim(ctx.to_int(1), rank)], perm[normalize_dim(ctx.to_int(2), rank)]);
  }
  ctx.set_tensor(0, ctx.b().add1("Transpose", {ctx.tensor(0)}, {{"perm", perm}}));
}

// expand(x, sizes): -1 keeps a dim; ONNX Expand broadcasts a 1 the same way.
void convert_expand(Context& ctx) {
  auto sizes = ctx.in(1);
  std::string shape;
  if (sizes->is_constant()) {
    auto s = sizes->constant.toIntVector();
    for (auto& v : s)
      if (v == -1) v = 1;
    shape = ctx.b().ints(s);
  } else if (sizes->is_list()) {
    std::vector<ValPtr> items;
    for (auto& item : sizes->items)
      items.push_back(item->is_constant() && item->constant.toInt() == -1 ? Val::of_constant(int64_t{1}) : item);
    shape = ctx.ints_1d(Val::of_list(items, false));
  } else {
    shape = ctx.ints_1d(1);
  }
  ctx.set_tensor(0, ctx.b().add1("Expand", {ctx.tensor(0), shape}, {}, "expand"));
}

void convert_expand_as(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("Expand", {ctx.tensor(0), shape_of(ctx, ctx.tensor(1))}, {}, "expand"));
}

// x.repeat(reps): Tile; repeats may be known only at run time (SSD's default
// boxes repeat by the feature map's area), their count is always known.
void convert_repeat(Context& ctx) {
  auto reps = ctx.in(1);
  int64_t count = reps->is_list() ? static_cast<int64_t>(reps->items.size())
                                  : static_cast<int64_t>(ctx.to_ints(1).size());
  int64_t rank = ctx.rank(0);
  std::string x = ctx.tensor(0);
  if (count > rank) {
    std::vector<int64_t> axes;
    for (int64_t k = 0; k < count - rank; ++k) axes.push_back(k);
    x = unsqueeze(ctx, x, axes);
  }
  ctx.set_tensor(0, ctx.b().add1("Tile", {x, ctx.ints_1d(1)}));
}

std::vector<std::string> tensor_list(Context& ctx, size_t i) {
  auto v = ctx.in(i);
  if (v->stacked)
    ctx.fail_op("a list filled by a loop of run-time length can be stacked, indexed and measured (len) only");
  std::vector<std::string> names;
  if (v->is_list()) {
    for (auto& item : v->items) names.push_back(ctx.materialize(item));
  } else if (v->is_constant() && v->constant.isTensorList()) {
    for (const auto& t : v->constant.toTensorVector()) names.push_back(ctx.b().constant(t));
  } else {
    ctx.fail_op("expected a list of tensors");
  }
  return names;
}

void convert_cat(Context& ctx) {
  auto names = tensor_list(ctx, 0);
  int64_t dim = ctx.num_inputs() > 1 ? ctx.to_int(1) : 0;
  ctx.set_tensor(0, names.size() == 1 ? ctx.b().add1("Identity", names) : ctx.b().add1("Concat", names, {{"axis", dim}}));
}

// stack of a list a loop of run-time length filled (control_flow.cpp): it is
// already stacked along dim 0; another dim is a transpose away.
void stack_stacked(Context& ctx, const ValPtr& list, int64_t dim) {
  int64_t rank = list->rank;
  if (dim < 0) dim += rank;
  if (dim == 0) return ctx.set(0, Val::of_tensor(list->name, list->dtype, rank));
  std::vector<int64_t> perm;
  for (int64_t d = 1; d < rank; ++d) {
    if (d - 1 == dim) perm.push_back(0);
    perm.push_back(d);
  }
  if (static_cast<int64_t>(perm.size()) < rank) perm.push_back(0);
  ctx.set_tensor(0, ctx.b().add1("Transpose", {list->name}, {{"perm", perm}}));
}

void convert_stack(Context& ctx) {
  int64_t dim = ctx.num_inputs() > 1 ? ctx.to_int(1) : 0;
  if (ctx.in(0)->stacked) return stack_stacked(ctx, ctx.in(0), dim);
  auto names = tensor_list(ctx, 0);
  auto ti = ctx.out_info(0);
  if (dim < 0) {
    if (!ti) ctx.fail_op("output rank unknown");
    dim += ti->rank();
  }
  std::vector<std::string> parts;
  for (auto& n : names) parts.push_back(unsqueeze(ctx, n, {dim}));
  ctx.set_tensor(0, parts.size() == 1 ? parts[0] : ctx.b().add1("Concat", parts, {{"axis", dim}}));
}

// Splits along `dim` into pieces of the given sizes; outputs a list or the node's outputs.
// `sizes`: a 1-D int64 tensor of `pieces` sizes.
void emit_split_by(Context& ctx, const std::string& x, int64_t dim, const std::string& sizes, int64_t pieces,
                   bool squeeze_dim) {
  auto parts = ctx.b().add("Split", {x, sizes}, {{"axis", dim}}, static_cast<int>(pieces), "split");
  if (squeeze_dim)
    for (auto& p : parts) p = squeeze(ctx, p, {dim});
  auto out_type = ctx.node()->output(0)->type();
  if (ctx.node()->outputs().size() == 1 && out_type->kind() == c10::TypeKind::ListType) {
    std::vector<ValPtr> items;
    auto ti = ctx.info(0);
    for (auto& p : parts)
      items.push_back(Val::of_tensor(p, ctx.dtype(0), ti ? ti->rank() - (squeeze_dim ? 1 : 0) : -1));
    ctx.set(0, Val::of_list(items, false));
    return;
  }
  for (size_t i = 0; i < parts.size() && i < ctx.node()->outputs().size(); ++i) ctx.set_tensor(i, parts[i]);
}

void emit_split(Context& ctx, const std::string& x, int64_t dim, const std::vector<int64_t>& sizes, bool squeeze_dim) {
  emit_split_by(ctx, x, dim, ctx.b().ints(sizes), static_cast<int64_t>(sizes.size()), squeeze_dim);
}

int64_t static_dim(Context& ctx, int64_t dim) {
  auto ti = ctx.info(0);
  if (!ti || ti->dynamic[dim]) ctx.fail_op(fmt::format("splitting needs a static size along dim {}", dim));
  return ti->sizes[dim];
}

// chunk of a dim known only at run time (RAFT: the two frames' features,
// batched together, chunked back into two): `chunks` pieces of
// ceil(n / chunks), the last one the rest, as PyTorch cuts them whenever no
// piece is empty.
void chunk_dynamic(Context& ctx, int64_t chunks, int64_t dim) {
  auto& g = ctx.b();
  std::string x = ctx.tensor(0);
  std::string n = g.add1("Gather", {shape_of(ctx, x), g.ints({dim})}, {{"axis", int64_t{0}}}, "dim");
  std::string size = g.add1("Div", {g.add1("Add", {n, g.ints({chunks - 1})}), g.ints({chunks})});
  std::string last = g.add1("Sub", {n, g.add1("Mul", {size, g.ints({chunks - 1})})});
  std::vector<std::string> sizes(static_cast<size_t>(chunks - 1), size);
  sizes.push_back(last);
  emit_split_by(ctx, x, dim, chunks == 1 ? n : g.add1("Concat", sizes, {{"axis", int64_t{0}}}), chunks, false);
}

void convert_chunk(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t chunks = ctx.to_int(1), dim = normalize_dim(ctx.to_int(2), rank);
  if (auto ti = ctx.info(0); ti && ti->dynamic[dim]) return chunk_dynamic(ctx, chunks, dim);
  int64_t n = static_dim(ctx, dim);
  int64_t size = (n + chunks - 1) / chunks;
  std::vector<int64_t> sizes;
  for (int64_t left = n; left > 0; left -= size) sizes.push_back(std::min(size, left));
  emit_split(ctx, ctx.tensor(0), dim, sizes, false);
}

// split(x, split_size | sizes, dim), split_with_sizes
void convert_split(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t dim = normalize_dim(ctx.to_int(2), rank);
  if (!ctx.is_constant(1) && ctx.in(1)->is_list()) {
    // Sizes known only at run time (boxes per image in detection models): a
    // Split by a sizes tensor, one piece per list item.
    auto n = ctx.in(1)->items.size();
    auto ti = ctx.info(0);
    std::vector<std::string> parts{ctx.tensor(0)};
    if (n != 1) parts = ctx.b().add("Split", {ctx.tensor(0), ctx.ints_1d(1)}, {{"axis", dim}}, static_cast<int>(n), "split");
    std::vector<ValPtr> items;
    for (auto& p : parts) items.push_back(Val::of_tensor(p, ctx.dtype(0), ti ? ti->rank() : rank));
    ctx.set(0, Val::of_list(items, false));
    return;
  }
  auto arg = ctx.constant(1);
  std::vector<int64_t> sizes;
  if (arg.isInt()) {
    int64_t n = static_dim(ctx, dim), size = arg.toInt();
    for (int64_t left = n; left > 0; left -= size) sizes.push_back(std::min(size, left));
  } else {
    sizes = arg.toIntVector();
  }
  emit_split(ctx, ctx.tensor(0), dim, sizes, false);
}

// tensor_split(x, sections | indices | tensor, dim): x[:i0], x[i0:i1], ...,
// one Slice each (empty pieces included). Sections of a dynamic dim take their
// bounds from its size at run time: piece i starts at i * (L / n) + min(i, L % n).
void convert_tensor_split(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t dim = normalize_dim(ctx.num_inputs() > 2 ? ctx.to_int(2) : 0, rank);
  auto arg = ctx.constant(1);
  std::string x = ctx.tensor(0);
  auto& g = ctx.b();
  std::vector<std::string> bounds;  // n + 1 1-D [1] int64 tensors
  if (arg.isTensor() && arg.toTensor().dim() == 0) arg = arg.toTensor().item<int64_t>();
  if (arg.isInt()) {
    int64_t n = arg.toInt();
    if (n <= 0) ctx.fail_op(fmt::format("sections must be positive, got {}", n));
    auto ti = ctx.info(0);
    if (ti && !ti->dynamic[dim]) {
      int64_t L = ti->sizes[dim];
      for (int64_t i = 0; i <= n; ++i) bounds.push_back(g.ints({i * (L / n) + std::min(i, L % n)}));
    } else {
      std::string L = dim_1d(ctx, x, dim), nn = g.ints({n});
      std::string q = g.add1("Div", {L, nn}), r = g.add1("Mod", {L, nn});
      for (int64_t i = 0; i <= n; ++i) {
        std::string ii = g.ints({i});
        bounds.push_back(g.add1("Add", {g.add1("Mul", {ii, q}), g.add1("Min", {ii, r})}));
      }
    }
  } else {
    std::vector<int64_t> indices = arg.isTensor() ? std::vector<int64_t>() : arg.toIntVector();
    if (arg.isTensor()) {
      auto t = arg.toTensor().to(at::kLong).contiguous();
      indices.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    }
    bounds.push_back(g.ints({0}));
    for (auto i : indices) bounds.push_back(g.ints({i}));
    bounds.push_back(g.ints({std::numeric_limits<int64_t>::max()}));
  }
  std::vector<ValPtr> items;
  auto ti = ctx.info(0);
  for (size_t k = 0; k + 1 < bounds.size(); ++k) {
    std::string piece = g.add1("Slice", {x, bounds[k], bounds[k + 1], g.ints({dim})}, {}, "split");
    items.push_back(Val::of_tensor(piece, ctx.dtype(0), ti ? ti->rank() : rank));
  }
  ctx.set(0, Val::of_list(items, false));
}

void convert_unbind(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t dim = normalize_dim(ctx.num_inputs() > 1 ? ctx.to_int(1) : 0, rank);
  int64_t n = static_dim(ctx, dim);
  emit_split(ctx, ctx.tensor(0), dim, std::vector<int64_t>(n, 1), true);
}

std::string bound(Context& ctx, size_t i, int64_t fallback) {
  if (i >= ctx.num_inputs() || ctx.is_none(i)) return ctx.b().ints({fallback});
  auto v = ctx.in(i);
  if (v->is_constant()) return ctx.b().ints({v->constant.toInt()});
  return ctx.ints_1d(v);
}

// l[start:end:step] on a list whose items may be dynamic (x.size()[2:]).
void slice_list(Context& ctx) {
  auto items = ctx.in(0)->items;
  int64_t n = static_cast<int64_t>(items.size());
  auto arg = [&](size_t i, int64_t fallback) { return i < ctx.num_inputs() && !ctx.is_none(i) ? ctx.to_int(i) : fallback; };
  int64_t start = arg(1, 0), end = arg(2, n), step = arg(3, 1);
  if (step <= 0) ctx.fail_op("a list slice needs a positive step");
  auto clamp = [&](int64_t i) { return std::min(std::max(i < 0 ? i + n : i, int64_t{0}), n); };
  std::vector<ValPtr> out;
  for (int64_t i = clamp(start); i < clamp(end); i += step) out.push_back(items[i]);
  ctx.set(0, Val::of_list(out, false));
}

// slice(x, dim, start, end, step)
void convert_slice(Context& ctx) {
  if (ctx.in(0)->is_list()) {
    slice_list(ctx);
    return;
  }
  int64_t rank = ctx.rank(0);
  int64_t dim = normalize_dim(ctx.to_int(1), rank);
  int64_t step = ctx.num_inputs() > 4 ? ctx.to_int(4) : 1;
  // A no-op slice x[:] stays a no-op.
  bool full = (ctx.is_none(2) || (ctx.is_constant(2) && ctx.to_int(2) == 0)) &&
              (ctx.is_none(3) || (ctx.is_constant(3) && ctx.to_int(3) >= std::numeric_limits<int32_t>::max())) &&
              step == 1;
  if (full) {
    ctx.set(0, ctx.in(0));
    return;
  }
  std::string y = ctx.b().add1("Slice", {ctx.tensor(0), bound(ctx, 2, 0), bound(ctx, 3, std::numeric_limits<int64_t>::max()),
                                         ctx.b().ints({dim}), ctx.b().ints({step})}, {}, "slice");
  ctx.set_tensor(0, y);
}

// narrow(x, dim, start, length)
void convert_narrow(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t dim = normalize_dim(ctx.to_int(1), rank);
  int64_t start = ctx.to_int(2), length = ctx.to_int(3);
  ctx.set_tensor(0, ctx.b().add1("Slice", {ctx.tensor(0), ctx.b().ints({start}), ctx.b().ints({start + length}),
                                           ctx.b().ints({dim})}));
}

// select(x, dim, index): Gather with a scalar index drops the dim.
void convert_select(Context& ctx) {
  int64_t rank = ctx.rank(0);
  int64_t dim = normalize_dim(ctx.to_int(1), rank);
  std::string index = ctx.is_constant(2) ? ctx.b().scalar_int(ctx.to_int(2)) : ctx.tensor_as(2, at::kLong);
  ctx.set_tensor(0, ctx.b().add1("Gather", {ctx.tensor(0), index}, {{"axis", dim}}, "select"));
}

// to(...) / type_as / float() etc.: a Cast when the dtype changes.
void convert_to(Context& ctx) {
  auto from = ctx.dtype(0);
  c10::ScalarType to = ctx.out_dtype(0);
  if (ctx.node()->kind() == c10::aten::type_as) to = ctx.dtype(1);
  if (to == from) {
    ctx.set(0, ctx.in(0));
    return;
  }
  ctx.set_tensor(0, cast(ctx, ctx.tensor(0), to));
}

}  // namespace

REGISTER_CONVERTER({"aten::view", "aten::reshape", "aten::_reshape_alias", "aten::_unsafe_view"}, convert_reshape);
REGISTER_CONVERTER({"aten::view_as", "aten::reshape_as"}, convert_reshape_as);
REGISTER_CONVERTER({"aten::flatten"}, convert_flatten);
REGISTER_CONVERTER({"aten::unsqueeze"}, convert_unsqueeze);
REGISTER_CONVERTER({"aten::squeeze"}, convert_squeeze);
REGISTER_CONVERTER({"aten::permute"}, convert_permute);
REGISTER_CONVERTER({"aten::transpose", "aten::t", "aten::swapaxes"}, convert_transpose);
REGISTER_CONVERTER({"aten::expand"}, convert_expand);
REGISTER_CONVERTER({"aten::expand_as"}, convert_expand_as);
REGISTER_CONVERTER({"aten::repeat"}, convert_repeat);
REGISTER_CONVERTER({"aten::cat", "aten::concat"}, convert_cat);
REGISTER_CONVERTER({"aten::stack"}, convert_stack);
REGISTER_CONVERTER({"aten::chunk", "aten::unsafe_chunk"}, convert_chunk);
REGISTER_CONVERTER({"aten::split", "aten::split_with_sizes", "aten::unsafe_split"}, convert_split);
REGISTER_CONVERTER({"aten::unbind"}, convert_unbind);
REGISTER_CONVERTER({"aten::tensor_split"}, convert_tensor_split);
REGISTER_CONVERTER({"aten::slice"}, convert_slice);
REGISTER_CONVERTER({"aten::narrow"}, convert_narrow);
REGISTER_CONVERTER({"aten::select"}, convert_select);
REGISTER_CONVERTER({"aten::to", "aten::type_as", "aten::float", "aten::long", "aten::int", "aten::half", "aten::double",
                    "aten::bool"},
                   convert_to);

}  // namespace mlopt::onnx_export
