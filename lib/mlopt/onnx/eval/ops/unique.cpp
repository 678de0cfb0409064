// Unique: the distinct elements (or slices along `axis`), sorted or in order
// of first occurrence, with first indices, inverse indices and counts.
#include <numeric>

#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

Ts unique(OpContext& c) {
  at::Tensor x = c.input(0);
  int64_t axis = 0;
  if (c.has_attr("axis")) axis = normalize_axis(c.attr_int("axis", 0), x.dim(), c);
  else x = x.reshape({-1});
  auto [values, inverse, counts] = at::unique_dim(x, axis, /*sorted=*/true, /*return_inverse=*/true, /*return_counts=*/true);
  int64_t distinct = values.size(axis);
  auto inv = inverse.to(at::kLong).contiguous();
  std::vector<int64_t> first(static_cast<size_t>(distinct), INT64_MAX);
  const int64_t* ip = inv.data_ptr<int64_t>();
  for (int64_t i = 0; i < inv.numel(); ++i) first[static_cast<size_t>(ip[i])] = std::min(first[static_cast<size_t>(ip[i])], i);
  auto first_t = torch::tensor(first, at::kLong);
  if (c.attr_int("sorted", 1)) return {values, first_t, inv, counts.to(at::kLong)};
  // Unsorted: the order of first occurrence.
  std::vector<int64_t> order(static_cast<size_t>(distinct));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return first[a] < first[b]; });
  std::vector<int64_t> rank(static_cast<size_t>(distinct));
  for (size_t j = 0; j < order.size(); ++j) rank[static_cast<size_t>(order[j])] = static_cast<int64_t>(j);
  auto perm = torch::tensor(order, at::kLong);
  return {values.index_select(axis, perm), first_t.index_select(0, perm), torch::tensor(rank, at::kLong).index({inv}),
          counts.to(at::kLong).index_select(0, perm)};
}

}  // namespace

REGISTER_ONNX_OP({"Unique"}, unique);

}  // namespace mlopt::onnx_eval
