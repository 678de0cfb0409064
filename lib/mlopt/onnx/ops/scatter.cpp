// Scatters: scatter_add, index_add, index_put (and their in-place forms).
//   scatter_add(x, dim, index, src)       ScatterElements reduction=add (opset 16) along dim, src
//                                         cut to the index's shape (PyTorch lets src be larger).
//   index_add(x, dim, index, source, alpha)
//                                         the 1-D index expanded along the other dims to source's
//                                         shape, source * alpha, ScatterElements reduction=add.
//   index_put(x, indices, values, accumulate)
//                                         the indexed dims moved first (Transpose), the index
//                                         tensors broadcast, wrapped (negative -> from the end) and
//                                         stacked into [B..., k] for ScatterND (accumulate:
//                                         reduction=add, opset 16), values broadcast to the shape
//                                         x[indices] has, then moved back. Boolean masks are refused.
// The in-place forms rebind their first input (later uses read the result); a
// write into a slice or select of a tensor is written back by
// onnx/view_mutation.h before conversion.
#include <algorithm>
#include <limits>
#include <numeric>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

void need_opset_16(Context& ctx, const std::string& what) {
  if (ctx.opset() < 16)
    ctx.fail_op(fmt::format("{} needs opset 16 or later (exporting opset {}); use --opset 16", what, ctx.opset()));
}

int64_t normalized(int64_t d, int64_t rank) { return d < 0 ? d + rank : d; }

bool same_static_shape(Context& ctx, size_t a, size_t b) {
  auto ia = ctx.info(a), ib = ctx.info(b);
  return ia && ib && !ia->any_dynamic() && !ib->any_dynamic() && ia->sizes == ib->sizes;
}

// scatter_add(x, dim, index, src)
void convert_scatter_add(Context& ctx) {
  need_opset_16(ctx, "scatter_add (ScatterElements with reduction='add')");
  auto& g = ctx.b();
  int64_t rank = ctx.rank(0);
  int64_t dim = normalized(ctx.to_int(1), rank);
  std::string index = ctx.tensor_as(2, at::kLong);
  std::string src = ctx.tensor_as(3, ctx.dtype(0));
  if (!same_static_shape(ctx, 2, 3) && rank > 0) {
    std::vector<int64_t> axes(static_cast<size_t>(rank));
    std::iota(axes.begin(), axes.end(), 0);
    src = g.add1("Slice", {src, g.ints(std::vector<int64_t>(axes.size(), 0)), shape_of(ctx, index), g.ints(axes)});
  }
  ctx.set_tensor(0, g.add1("ScatterElements", {ctx.tensor(0), index, src}, {{"axis", dim}, {"reduction", "add"}},
                           "scatter_add"));
}

// index_add(x, dim, index, source, *, alpha=1)
void convert_index_add(Context& ctx) {
  need_opset_16(ctx, "index_add (ScatterElements with reduction='add')");
  auto& g = ctx.b();
  auto type = ctx.dtype(0);
  int64_t rank = ctx.rank(0);
  int64_t dim = rank == 0 ? 0 : normalized(ctx.to_int(1), rank);
  std::string source = ctx.tensor_as(3, type);
  if (auto i = schema_arg(ctx.node(), "alpha"); i && !ctx.is_none(*i)) {
    double alpha = ctx.to_double(*i);
    if (alpha != 1.0) source = g.add1("Mul", {source, g.constant(torch::scalar_tensor(alpha, type), "alpha")});
  }
  std::string x = ctx.tensor(0);
  if (rank == 0) {  // a 0-d x: index and source hold one element
    std::string flat = g.add1("Reshape", {x, g.ints({1})});
    std::string sum = g.add1("ScatterElements",
                             {flat, g.add1("Reshape", {ctx.tensor_as(2, at::kLong), g.ints({1})}),
                              g.add1("Reshape", {source, g.ints({1})})},
                             {{"axis", int64_t{0}}, {"reduction", "add"}});
    ctx.set_tensor(0, g.add1("Reshape", {sum, g.ints({})}));
    return;
  }
  std::vector<int64_t> along(static_cast<size_t>(rank), 1);
  along[static_cast<size_t>(dim)] = -1;
  std::string index = g.add1("Reshape", {ctx.tensor_as(2, at::kLong), g.ints(along)});
  index = g.add1("Expand", {index, shape_of(ctx, source)});
  ctx.set_tensor(0, g.add1("ScatterElements", {x, index, source}, {{"axis", dim}, {"reduction", "add"}}, "index_add"));
}

bool is_bool_index(const ValPtr& v) {
  if (v->is_dynamic()) return v->dtype == at::kBool || v->dtype == at::kByte;
  if (v->is_constant() && v->constant.isTensor()) {
    auto t = v->constant.toTensor().scalar_type();
    return t == at::kBool || t == at::kByte;
  }
  return false;
}

// The index list's items (None for a dim taken whole).
std::vector<ValPtr> index_items(Context& ctx, size_t i) {
  auto list = ctx.in(i);
  std::vector<ValPtr> items;
  if (list->is_list()) items = list->items;
  else if (list->is_constant())
    for (const auto& e : list->constant.toListRef()) items.push_back(Val::of_constant(e));
  else ctx.fail_op("the index list must be a list of tensors");
  return items;
}

int64_t val_rank(Context& ctx, const ValPtr& v) {
  if (v->is_constant()) return v->constant.isTensor() ? v->constant.toTensor().dim() : 0;
  if (v->rank < 0) ctx.fail_op("the rank of an index tensor is unknown");
  return v->rank;
}

std::vector<int64_t> perm_inverse(const std::vector<int64_t>& perm) {
  std::vector<int64_t> inv(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) inv[static_cast<size_t>(perm[k])] = static_cast<int64_t>(k);
  return inv;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t k = 0; k < perm.size(); ++k)
    if (perm[k] != static_cast<int64_t>(k)) return false;
  return true;
}

// index_put(x, indices, values, accumulate=False)
void convert_index_put(Context& ctx) {
  auto& g = ctx.b();
  bool accumulate = ctx.num_inputs() > 3 && !ctx.is_none(3) && ctx.to_bool(3);
  if (accumulate) need_opset_16(ctx, "index_put with accumulate=True (ScatterND with reduction='add')");
  auto type = ctx.dtype(0);
  int64_t rank = ctx.rank(0);
  auto items = index_items(ctx, 1);
  std::vector<int64_t> indexed;  // the dims given an index tensor
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k]->is_constant() && items[k]->constant.isNone()) continue;
    if (is_bool_index(items[k])) {
      // x[mask] = v with a 1-D mask (torchvision's per-level RoI pooling): its
      // positions (NonZero) as the integer index of that dim.
      if (val_rank(ctx, items[k]) != 1)
        ctx.fail_op("index_put with a boolean mask over several dims (x[mask] = v) is not supported; write "
                    "torch.where(mask, v, x) instead");
      std::string positions = g.add1("NonZero", {ctx.materialize(items[k])}, {}, "mask_positions");
      items[k] = Val::of_tensor(squeeze(ctx, positions, {0}), at::kLong, 1);
    }
    indexed.push_back(static_cast<int64_t>(k));
  }
  if (indexed.empty()) ctx.fail_op("index_put without an index tensor");
  if (static_cast<int64_t>(items.size()) > rank)
    ctx.fail_op(fmt::format("{} indices for a {}-D tensor", items.size(), rank));
  bool adjacent = indexed.back() - indexed.front() + 1 == static_cast<int64_t>(indexed.size());
  // x with the indexed dims first, the others after in their order.
  std::vector<int64_t> perm = indexed;
  for (int64_t d = 0; d < rank; ++d)
    if (std::find(indexed.begin(), indexed.end(), d) == indexed.end()) perm.push_back(d);
  std::string x = ctx.tensor(0);
  std::string moved = is_identity(perm) ? x : g.add1("Transpose", {x}, {{"perm", perm}});
  // Index tensors: int64, negative positions wrapped, broadcast together.
  std::string shape = shape_of(ctx, x);
  int64_t batch_rank = 0;
  std::vector<std::string> idx;
  for (int64_t d : indexed) {
    auto v = items[static_cast<size_t>(d)];
    batch_rank = std::max(batch_rank, val_rank(ctx, v));
    std::string i = ctx.materialize(v);
    if (!(v->is_dynamic() && v->dtype == at::kLong) &&
        !(v->is_constant() && v->constant.toTensor().scalar_type() == at::kLong))
      i = cast(ctx, i, at::kLong);
    std::string size = g.add1("Gather", {shape, g.ints({d})}, {{"axis", int64_t{0}}}, "dim");
    std::string negative = g.add1("Less", {i, g.scalar_int(0)});
    idx.push_back(g.add1("Where", {negative, g.add1("Add", {i, size}), i}));
  }
  std::string zeros = g.add1("Mul", {idx[0], g.scalar_int(0)});
  for (size_t k = 1; k < idx.size(); ++k) zeros = g.add1("Add", {zeros, g.add1("Mul", {idx[k], g.scalar_int(0)})});
  for (auto& i : idx) i = unsqueeze(ctx, g.add1("Add", {i, zeros}), {-1});
  std::string stacked = idx.size() == 1 ? idx[0] : g.add("Concat", idx, {{"axis", int64_t{-1}}})[0];
  // x[indices]'s shape: B, then the other dims (the B dims sit where the
  // indexed dims were when they are adjacent; first otherwise).
  std::string batch_shape = shape_of(ctx, zeros);
  std::string rest = g.add1("Slice", {shape_of(ctx, moved), g.ints({static_cast<int64_t>(indexed.size())}),
                                      g.ints({std::numeric_limits<int64_t>::max()}), g.ints({0})});
  int64_t rest_rank = rank - static_cast<int64_t>(indexed.size());
  int64_t before = adjacent ? indexed.front() : 0;  // other dims ahead of B in x[indices]
  std::string result_shape;
  if (before == 0) {
    result_shape = g.add("Concat", {batch_shape, rest}, {{"axis", int64_t{0}}})[0];
  } else {
    std::string head = g.add1("Slice", {rest, g.ints({0}), g.ints({before}), g.ints({0})});
    std::string tail = g.add1("Slice", {rest, g.ints({before}), g.ints({std::numeric_limits<int64_t>::max()}), g.ints({0})});
    result_shape = g.add("Concat", {head, batch_shape, tail}, {{"axis", int64_t{0}}})[0];
  }
  std::string values = g.add1("Expand", {ctx.tensor_as(2, type), result_shape});
  if (before > 0) {  // B first, as ScatterND's updates are laid out
    std::vector<int64_t> vperm;
    for (int64_t k = 0; k < batch_rank; ++k) vperm.push_back(before + k);
    for (int64_t k = 0; k < before; ++k) vperm.push_back(k);
    for (int64_t k = before + batch_rank; k < batch_rank + rest_rank; ++k) vperm.push_back(k);
    values = g.add1("Transpose", {values}, {{"perm", vperm}});
  }
  std::string y = accumulate ? g.add1("ScatterND", {moved, stacked, values}, {{"reduction", "add"}}, "index_put")
                             : g.add1("ScatterND", {moved, stacked, values}, {}, "index_put");
  if (!is_identity(perm)) y = g.add1("Transpose", {y}, {{"perm", perm_inverse(perm)}});
  ctx.set_tensor(0, y);
}

}  // namespace

REGISTER_CONVERTER({"aten::scatter_add"}, convert_scatter_add);
REGISTER_CONVERTER({"aten::scatter_add_"}, in_place<convert_scatter_add>);
REGISTER_CONVERTER({"aten::index_add"}, convert_index_add);
REGISTER_CONVERTER({"aten::index_add_"}, in_place<convert_index_add>);
REGISTER_CONVERTER({"aten::index_put"}, convert_index_put);
REGISTER_CONVERTER({"aten::index_put_"}, in_place<convert_index_put>);

}  // namespace mlopt::onnx_export
