// Indexing: embedding, index_select, gather, tensor indexing x[idx], x[mask] and
// x[i, j] (several index tensors), masked_fill, nonzero. Writes (index_put) are in scatter.cpp.
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

// masked_fill(x, mask, value) = where(mask, value, x)
void convert_masked_fill(Context& ctx) {
  auto type = ctx.dtype(0);
  std::string y = ctx.b().add1("Where", {ctx.tensor_as(1, at::kBool), ctx.tensor_as(2, type), ctx.tensor(0)});
  ctx.set_tensor(0, y);
  if (ctx.node()->kind() == c10::aten::masked_fill_) ctx.rebind_input(0, ctx.out(0));
}

// nonzero(x): ONNX NonZero gives [rank, N]; PyTorch [N, rank].
void convert_nonzero(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("Transpose", {ctx.b().add1("NonZero", {ctx.tensor(0)})}, {{"perm", std::vector<int64_t>{1, 0}}}));
}

}  // namespace

// nonzero_numpy(x) and where(x) (torch.nonzero(x, as_tuple=True),
// torch.where(x)): rank 1-D tensors of N positions.
void convert_nonzero_numpy(Context& ctx) {
  int64_t rank = ctx.rank(0);
  if (rank == 0) ctx.fail_op("nonzero(as_tuple=True) of a 0-d tensor");
  auto& g = ctx.b();
  std::string positions = g.add1("NonZero", {ctx.tensor(0)});
  std::vector<ValPtr> items;
  for (int64_t d = 0; d < rank; ++d) {
    std::string row = g.add1("Gather", {positions, g.scalar_int(d)}, {{"axis", int64_t{0}}}, "nonzero");
    items.push_back(Val::of_tensor(row, at::kLong, 1));
  }
  ctx.set(0, Val::of_list(std::move(items), false));
}

REGISTER_CONVERTER({"aten::nonzero"}, convert_nonzero);
REGISTER_CONVERTER({"aten::nonzero_numpy"}, convert_nonzero_numpy);
REGISTER_CONVERTER({"aten::embedding"}, convert_embedding);
REGISTER_CONVERTER({"aten::index_select"}, convert_index_select);
REGISTER_CONVERTER({"aten::gather"}, convert_gather);
REGISTER_CONVERTER({"aten::index"}, convert_index);
REGISTER_CONVERTER({"aten::masked_fill", "aten::masked_fill_"}, convert_masked_fill);

}  // namespace mlopt::onnx_export
