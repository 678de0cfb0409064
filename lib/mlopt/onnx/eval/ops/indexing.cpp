// Gather, GatherElements, GatherND, ScatterND, ScatterElements, TopK, Pad.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// Negative indices count from the end, as in numpy.
at::Tensor wrap_indices(const at::Tensor& idx, int64_t dim) {
  auto i = idx.to(at::kLong);
  return at::where(i < 0, i + dim, i);
}

void check_range(const OpContext& c, const at::Tensor& idx, int64_t dim) {
  if (idx.numel() && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= dim))
    c.fail(fmt::format("index out of range for a dim of size {}", dim));
}

Ts gather(OpContext& c) {
  const auto& x = c.input(0);
  int64_t axis = normalize_axis(c.attr_int("axis", 0), x.dim(), c);
  auto idx = wrap_indices(c.input(1), x.size(axis));
  check_range(c, idx, x.size(axis));
  auto flat = x.index_select(axis, idx.reshape({-1}));
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  for (auto d : idx.sizes()) shape.push_back(d);
  shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
  return {flat.reshape(shape)};
}

Ts gather_elements(OpContext& c) {
  const auto& x = c.input(0);
  int64_t axis = normalize_axis(c.attr_int("axis", 0), x.dim(), c);
  auto idx = wrap_indices(c.input(1), x.size(axis));
  check_range(c, idx, x.size(axis));
  return {x.gather(axis, idx)};
}

Ts gather_nd(OpContext& c) {
  const auto& x = c.input(0);
  auto idx = c.input(1).to(at::kLong);
  int64_t batch = c.attr_int("batch_dims", 0);
  if (batch != 0) c.fail("GatherND with batch_dims is not supported");
  int64_t k = idx.size(-1);
  std::vector<at::indexing::TensorIndex> index;
  for (int64_t i = 0; i < k; ++i) index.emplace_back(wrap_indices(idx.select(-1, i), x.size(i)));
  return {x.index(index)};
}

Ts scatter_nd(OpContext& c) {
  at::Tensor y = c.input(0).clone();
  auto idx = c.input(1).to(at::kLong);
  const auto& updates = c.input(2);
  int64_t k = idx.size(-1);
  c10::List<c10::optional<at::Tensor>> index;
  for (int64_t i = 0; i < k; ++i) index.push_back(wrap_indices(idx.select(-1, i), y.size(i)));
  std::string reduction = c.attr_string("reduction", "none");
  if (reduction != "none" && reduction != "add") c.fail("ScatterND reduction '" + reduction + "' is not supported");
  y.index_put_(index, updates, /*accumulate=*/reduction == "add");
  return {y};
}

Ts scatter_elements(OpContext& c) {
  const auto& x = c.input(0);
  int64_t axis = normalize_axis(c.attr_int("axis", 0), x.dim(), c);
  auto idx = wrap_indices(c.input(1), x.size(axis));
  std::string reduction = c.attr_string("reduction", "none");
  if (reduction == "none") return {x.scatter(axis, idx, c.input(2))};
  if (reduction == "add") return {x.scatter_add(axis, idx, c.input(2))};
  return {x.scatter_reduce(axis, idx, c.input(2), reduction == "mul" ? "prod" : reduction == "max" ? "amax" : "amin")};
}

Ts topk(OpContext& c) {
  const auto& x = c.input(0);
  int64_t k = c.input(1).reshape({-1})[0].item<int64_t>();
  int64_t axis = normalize_axis(c.attr_int("axis", -1), x.dim(), c);
  bool largest = c.attr_int("largest", 1) != 0, sorted = c.attr_int("sorted", 1) != 0;
  auto [values, indices] = at::topk(x, k, axis, largest, sorted);
  return {values, indices};
}

// Pad (opset 11+: pads/constant_value/axes as inputs; before: attributes).
Ts pad(OpContext& c) {
  const auto& x = c.input(0);
  std::vector<int64_t> pads;
  double value = 0;
  if (c.opset >= 11) {
    pads = to_int_vector(c.input(1));
    if (c.has_input(2) && c.input(2).numel()) value = c.input(2).reshape({-1})[0].item<double>();
  } else {
    pads = c.attr_ints("pads");
    value = c.attr_float("value", 0.0);
  }
  int64_t rank = x.dim();
  std::vector<int64_t> axes;
  if (c.has_input(3)) axes = to_int_vector(c.input(3));
  else
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  if (pads.size() != 2 * axes.size()) c.fail(fmt::format("'pads' has {} values; expected {}", pads.size(), 2 * axes.size()));
  std::vector<int64_t> begin(rank, 0), end(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = normalize_axis(axes[i], rank, c);
    begin[a] = pads[i];
    end[a] = pads[i + axes.size()];
  }
  std::vector<int64_t> padded(static_cast<size_t>(rank));
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = x.size(d);
    if (__builtin_add_overflow(size, begin[d], &size) || __builtin_add_overflow(size, end[d], &size))
      c.fail(fmt::format("pads {}, {} on dim {} overflow", begin[d], end[d], d));
    padded[static_cast<size_t>(d)] = size;
  }
  check_value_shape(c, padded, "the padded shape");
  std::string mode = c.attr_string("mode", "constant");
  // ATen pads are given last dim first.
  std::vector<int64_t> torch_pads;
  int64_t last_padded = -1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    torch_pads.push_back(begin[d]);
    torch_pads.push_back(end[d]);
    if (begin[d] || end[d]) last_padded = d;
  }
  if (mode == "constant") return {at::constant_pad_nd(x, torch_pads, value)};
  // reflect/edge: ATen pads trailing spatial dims only; they must be the padded ones.
  int64_t spatial = rank - std::max<int64_t>(last_padded, 0);
  if (last_padded < 0) return {x};
  if (last_padded < 2 || spatial > 3) c.fail("Pad mode '" + mode + "' on leading dims is not supported");
  torch_pads.resize(static_cast<size_t>(2 * spatial));
  if (mode != "reflect" && mode != "edge") c.fail("Pad mode '" + mode + "' is not supported");
  // ATen's reflect/edge kernels take floating types: integers go through
  // double, exact up to 2^53.
  at::Tensor in = x;
  if (!x.is_floating_point()) {
    if (x.numel() && x.abs().max().item<double>() > 9007199254740992.0)
      c.fail("Pad mode '" + mode + "' on integers beyond 2^53 is not supported");
    in = x.to(at::kDouble);
  }
  at::Tensor y;
  if (mode == "reflect")
    y = spatial == 1 ? at::reflection_pad1d(in, torch_pads)
        : spatial == 2 ? at::reflection_pad2d(in, torch_pads) : at::reflection_pad3d(in, torch_pads);
  else
    y = spatial == 1 ? at::replication_pad1d(in, torch_pads)
        : spatial == 2 ? at::replication_pad2d(in, torch_pads) : at::replication_pad3d(in, torch_pads);
  return {y.to(x.scalar_type())};
}

}  // namespace

REGISTER_ONNX_OP({"Gather"}, gather);
REGISTER_ONNX_OP({"GatherElements"}, gather_elements);
REGISTER_ONNX_OP({"GatherND"}, gather_nd);
REGISTER_ONNX_OP({"ScatterND"}, scatter_nd);
REGISTER_ONNX_OP({"ScatterElements", "Scatter"}, scatter_elements);
REGISTER_ONNX_OP({"TopK"}, topk);
REGISTER_ONNX_OP({"Pad"}, pad);

}  // namespace mlopt::onnx_eval
