// Indexing: embedding, index_select, gather, tensor indexing x[idx],
// masked_fill, nonzero.
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

// x[..., idx, ...] with one integer index tensor (the others None): Gather.
void convert_index(Context& ctx) {
  auto list = ctx.in(1);
  std::vector<ValPtr> items;
  if (list->is_list()) items = list->items;
  else if (list->is_constant())
    for (const auto& e : list->constant.toListRef()) items.push_back(Val::of_constant(e));
  int64_t axis = -1;
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k]->is_constant() && items[k]->constant.isNone()) continue;
    if (axis >= 0) ctx.fail_op("indexing with more than one index tensor is not supported");
    axis = static_cast<int64_t>(k);
  }
  if (axis < 0) ctx.fail_op("indexing without an index tensor");
  auto idx = items[axis];
  if ((idx->is_dynamic() && idx->dtype == at::kBool) ||
      (idx->is_constant() && idx->constant.isTensor() && idx->constant.toTensor().scalar_type() == at::kBool))
    ctx.fail_op("boolean mask indexing is not supported (its output size depends on the values)");
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
