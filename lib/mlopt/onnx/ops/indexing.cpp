// Indexing: embedding, index_select, gather, tensor indexing x[idx] and
// x[mask], masked_fill.
#include <limits>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

// embedding(weight, indices, padding_idx, scale_grad, sparse): a Gather of rows.
void convert_embedding(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("Gather", {ctx.tensor(0), ctx.tensor_as(1, at::kLong)}, {{"axis", int64_t{0}}}, "embedding"));
}

void convert_index_select(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("Gather", {ctx.tensor(0), ctx.tensor_as(2, at::kLong)}, {{"axis", ctx.to_int(1)}}));
}

// torch.gather(x, dim, index) == ONNX GatherElements.
void convert_gather(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("GatherElements", {ctx.tensor(0), ctx.tensor_as(2, at::kLong)}, {{"axis", ctx.to_int(1)}}));
}

// x[mask] with a bool mask over the dims from `axis` on: the positions where it
// is true (NonZero), so the output size is known only at run time. A 1-D mask
// selects along one dim (Gather); a mask over several dims from dim 0 selects
// elements (GatherND).
void convert_mask_index(Context& ctx, const ValPtr& mask, int64_t axis) {
  std::string m = ctx.materialize(mask);
  int64_t mask_rank = mask->is_dynamic() ? mask->rank : mask->constant.toTensor().dim();
  if (mask_rank < 0) ctx.fail_op("boolean mask indexing needs the mask's rank");
  std::string nz = ctx.b().add1("NonZero", {m}, {}, "mask_positions");
  if (mask_rank == 1) {
    std::string i = squeeze(ctx, nz, {0});
    ctx.set_tensor(0, ctx.b().add1("Gather", {ctx.tensor(0), i}, {{"axis", axis}}, "masked"));
    return;
  }
  if (axis != 0) ctx.fail_op("a boolean mask over several dims is supported from dim 0 only");
  std::string i = ctx.b().add1("Transpose", {nz}, {{"perm", std::vector<int64_t>{1, 0}}});
  ctx.set_tensor(0, ctx.b().add1("GatherND", {ctx.tensor(0), i}, {}, "masked"));
}

// x[i0, i1, ...] with integer index tensors on the leading dims: broadcast
// together, stacked on a last axis, GatherND ([broadcast shape] + x.shape[k:]).
void convert_multi_index(Context& ctx, const std::vector<ValPtr>& items) {
  auto& b = ctx.b();
  std::vector<std::string> idx;
  for (size_t k = 0; k < items.size(); ++k) {
    bool none = items[k]->is_constant() && items[k]->constant.isNone();
    if (none) {
      for (size_t j = k + 1; j < items.size(); ++j)
        if (!(items[j]->is_constant() && items[j]->constant.isNone()))
          ctx.fail_op("indexing with several index tensors is supported on the leading dims only");
      break;
    }
    bool is_bool = (items[k]->is_dynamic() && items[k]->dtype == at::kBool) ||
                   (items[k]->is_constant() && items[k]->constant.isTensor() &&
                    items[k]->constant.toTensor().scalar_type() == at::kBool);
    if (is_bool) ctx.fail_op("a boolean mask together with other index tensors is not supported");
    std::string i = ctx.materialize(items[k]);
    if (!items[k]->is_constant() && items[k]->dtype != at::kLong) i = cast(ctx, i, at::kLong);
    if (items[k]->is_constant() && items[k]->constant.isTensor() && items[k]->constant.toTensor().scalar_type() != at::kLong)
      i = cast(ctx, i, at::kLong);
    idx.push_back(i);
  }
  // A zero tensor of the broadcast shape, added to each index to broadcast it.
  std::string zero = b.add1("Mul", {idx[0], b.constant(torch::scalar_tensor(0, at::kLong), "zero")});
  for (size_t k = 1; k < idx.size(); ++k)
    zero = b.add1("Add", {zero, b.add1("Mul", {idx[k], b.constant(torch::scalar_tensor(0, at::kLong), "zero")})});
  std::vector<std::string> parts;
  for (auto& i : idx) parts.push_back(unsqueeze(ctx, b.add1("Add", {i, zero}), {-1}));
  std::string stacked = b.add1("Concat", parts, {{"axis", int64_t{-1}}});
  ctx.set_tensor(0, b.add1("GatherND", {ctx.tensor(0), stacked}, {}, "index"));
}

// x[..., idx, ...] with one integer index tensor (the others None): Gather.
void convert_index(Context& ctx) {
  auto list = ctx.in(1);
  std::vector<ValPtr> items;
  if (list->is_list()) items = list->items;
  else if (list->is_constant())
    for (const auto& e : list->constant.toListRef()) items.push_back(Val::of_constant(e));
  int64_t axis = -1;
  size_t given = 0;
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k]->is_constant() && items[k]->constant.isNone()) continue;
    if (axis < 0) axis = static_cast<int64_t>(k);
    ++given;
  }
  if (given > 1) {
    convert_multi_index(ctx, items);
    return;
  }
  if (axis < 0) ctx.fail_op("indexing without an index tensor");
  auto idx = items[axis];
  if ((idx->is_dynamic() && idx->dtype == at::kBool) ||
      (idx->is_constant() && idx->constant.isTensor() && idx->constant.toTensor().scalar_type() == at::kBool)) {
    convert_mask_index(ctx, idx, axis);
    return;
  }
  std::string i = ctx.materialize(idx);
  if (idx->is_dynamic() && idx->dtype != at::kLong) i = cast(ctx, i, at::kLong);
  ctx.set_tensor(0, ctx.b().add1("Gather", {ctx.tensor(0), i}, {{"axis", axis}}, "index"));
}

// x[idx] = v / index_put(x, [idx], v, accumulate) with one index tensor on
// dim 0 (integer, or a boolean mask over dim 0): ScatterND of the rows, v
// broadcast to [len(idx), x.shape[1:]] (accumulate: reduction add, opset 16).
void convert_index_put(Context& ctx) {
  auto list = ctx.in(1);
  std::vector<ValPtr> items;
  if (list->is_list()) items = list->items;
  else if (list->is_constant())
    for (const auto& e : list->constant.toListRef()) items.push_back(Val::of_constant(e));
  if (items.size() != 1 || (items[0]->is_constant() && items[0]->constant.isNone()))
    ctx.fail_op("index_put with other than one index tensor on dim 0 is not supported");
  auto idx = items[0];
  bool mask = (idx->is_dynamic() && idx->dtype == at::kBool) ||
              (idx->is_constant() && idx->constant.isTensor() && idx->constant.toTensor().scalar_type() == at::kBool);
  std::string i = ctx.materialize(idx);
  auto& b = ctx.b();
  if (mask) {
    int64_t mask_rank = idx->is_dynamic() ? idx->rank : idx->constant.toTensor().dim();
    if (mask_rank != 1) ctx.fail_op("index_put with a boolean mask over several dims is not supported");
    i = b.add1("Transpose", {b.add1("NonZero", {i})}, {{"perm", std::vector<int64_t>{1, 0}}});
  } else {
    if (idx->is_dynamic() && idx->dtype != at::kLong) i = cast(ctx, i, at::kLong);
    if ((idx->is_dynamic() ? idx->rank : idx->constant.toTensor().dim()) != 1)
      ctx.fail_op("index_put with an index tensor of rank other than 1 is not supported");
    i = unsqueeze(ctx, i, {1});
  }
  bool accumulate = ctx.num_inputs() > 3 && !ctx.is_none(3) && ctx.to_bool(3);
  if (accumulate && ctx.opset() < 16) ctx.fail_op("index_put with accumulate=True needs opset 16 or later");
  std::string x = ctx.tensor(0);
  // Values broadcast to the rows they replace: [n, x.shape[1:]].
  std::string rows = b.add1("Slice", {shape_of(ctx, i), b.ints({0}), b.ints({1})});
  std::string rest = b.add1("Slice", {shape_of(ctx, x), b.ints({1}), b.ints({std::numeric_limits<int64_t>::max()})});
  std::string v = b.add1("Expand", {ctx.tensor_as(2, ctx.dtype(0)), b.add1("Concat", {rows, rest}, {{"axis", int64_t{0}}})});
  std::vector<Attr> attrs;
  if (accumulate) attrs.emplace_back("reduction", "add");
  ctx.set_tensor(0, b.add_node("ScatterND", {x, i, v}, attrs, 1, "index_put")[0]);
  if (ctx.node()->kind() == c10::aten::index_put_) ctx.rebind_input(0, ctx.out(0));
}

// masked_fill(x, mask, value) = where(mask, value, x)
void convert_masked_fill(Context& ctx) {
  auto type = ctx.dtype(0);
  std::string y = ctx.b().add1("Where", {ctx.tensor_as(1, at::kBool), ctx.tensor_as(2, type), ctx.tensor(0)});
  ctx.set_tensor(0, y);
  if (ctx.node()->kind() == c10::aten::masked_fill_) ctx.rebind_input(0, ctx.out(0));
}

}  // namespace

REGISTER_CONVERTER({"aten::embedding"}, convert_embedding);
REGISTER_CONVERTER({"aten::index_select"}, convert_index_select);
REGISTER_CONVERTER({"aten::gather"}, convert_gather);
REGISTER_CONVERTER({"aten::index"}, convert_index);
REGISTER_CONVERTER({"aten::index_put", "aten::index_put_"}, convert_index_put);
REGISTER_CONVERTER({"aten::masked_fill", "aten::masked_fill_"}, convert_masked_fill);

}  // namespace mlopt::onnx_export
