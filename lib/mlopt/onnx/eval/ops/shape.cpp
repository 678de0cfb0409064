// Shape manipulation: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat,
// Split, Slice, Shape, Size, Expand, Tile, Identity.
#include "mlopt/core/saturating_count.h"
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

Ts reshape(OpContext& c) {
  const auto& x = c.input(0);
  auto shape = to_int_vector(c.input(1));
  bool allow_zero = c.attr_int("allowzero", 0) != 0;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 0 && !allow_zero) {
      if (static_cast<int64_t>(i) >= x.dim()) c.fail("shape has 0 at a position beyond the input rank");
      shape[i] = x.size(static_cast<int64_t>(i));  // 0 copies the input's dim
    }
  return {x.reshape(shape)};
}

Ts flatten(OpContext& c) {
  const auto& x = c.input(0);
  int64_t axis = c.attr_int("axis", 1);
  if (axis < 0) axis += x.dim();
  if (axis < 0 || axis > x.dim()) c.fail("axis out of range");
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
  return {x.reshape({outer, outer == 0 ? 0 : x.numel() / std::max<int64_t>(outer, 1)})};
}

Ts transpose(OpContext& c) {
  const auto& x = c.input(0);
  auto perm = c.attr_ints("perm");
  if (perm.empty())
    for (int64_t d = x.dim() - 1; d >= 0; --d) perm.push_back(d);
  return {x.permute(perm)};
}

std::vector<int64_t> axes_of(OpContext& c, size_t input_index) {
  if (c.opset >= 13) return c.has_input(input_index) ? to_int_vector(c.input(input_index)) : std::vector<int64_t>{};
  return c.attr_ints("axes");
}

Ts squeeze(OpContext& c) {
  at::Tensor x = c.input(0);
  auto axes = axes_of(c, 1);
  if (axes.empty()) return {x.squeeze()};
  for (auto& a : axes) a = normalize_axis(a, x.dim(), c);
  std::sort(axes.rbegin(), axes.rend());
  for (auto a : axes) {
    if (x.size(a) != 1) c.fail(fmt::format("cannot squeeze axis {} of size {}", a, x.size(a)));
    x = x.squeeze(a);
  }
  return {x};
}

Ts unsqueeze(OpContext& c) {
  at::Tensor x = c.input(0);
  auto axes = axes_of(c, 1);
  int64_t out_rank = x.dim() + static_cast<int64_t>(axes.size());
  for (auto& a : axes) a = a < 0 ? a + out_rank : a;
  std::sort(axes.begin(), axes.end());
  for (auto a : axes) {
    if (a < 0 || a > x.dim()) c.fail("axis out of range");
    x = x.unsqueeze(a);
  }
  return {x};
}

Ts concat(OpContext& c) {
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < c.input_count(); ++i)
    if (c.has_input(i)) parts.push_back(c.input(i));
  if (parts.empty()) c.fail("Concat has no inputs");
  int64_t axis = normalize_axis(c.attr_int("axis", 0), parts[0].dim(), c);
  // Type promotion is not ONNX's; inputs must agree, and empty tensors join freely.
  return {at::cat(parts, axis)};
}

Ts split(OpContext& c) {
  const auto& x = c.input(0);
  int64_t axis = normalize_axis(c.attr_int("axis", 0), x.dim(), c);
  std::vector<int64_t> sizes;
  if (c.opset >= 13 && c.has_input(1)) sizes = to_int_vector(c.input(1));
  else if (c.opset < 13) sizes = c.attr_ints("split");
  size_t n = c.output_count();
  if (sizes.empty()) {
    int64_t parts = c.has_attr("num_outputs") ? c.attr_int("num_outputs", 1) : static_cast<int64_t>(n);
    int64_t chunk = (x.size(axis) + parts - 1) / parts;
    for (int64_t left = x.size(axis); left > 0; left -= chunk) sizes.push_back(std::min(chunk, left));
  }
  auto pieces = x.split_with_sizes(sizes, axis);
  return {pieces.begin(), pieces.end()};
}

// Slice: clamps starts/ends like numpy, negative steps included.
Ts slice(OpContext& c) {
  at::Tensor x = c.input(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset >= 10) {
    starts = to_int_vector(c.input(1));
    ends = to_int_vector(c.input(2));
    if (c.has_input(3)) axes = to_int_vector(c.input(3));
    if (c.has_input(4)) steps = to_int_vector(c.input(4));
  } else {
    starts = c.attr_ints("starts");
    ends = c.attr_ints("ends");
    axes = c.attr_ints("axes");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    c.fail("starts, ends, axes and steps differ in length");
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = normalize_axis(axes[i], x.dim(), c);
    int64_t dim = x.size(axis), step = steps[i];
    if (step == 0) c.fail("step 0");
    // ONNX: starts clamp to [0, dim] (step > 0) or [0, dim - 1] (step < 0);
    // ends to [0, dim] or [-1, dim - 1].
    auto clamp_index = [&](int64_t v, bool is_end) {
      if (v < 0) v += dim;
      if (step > 0) return std::clamp<int64_t>(v, 0, dim);
      return std::clamp<int64_t>(v, is_end ? -1 : 0, dim - 1);
    };
    int64_t s = clamp_index(starts[i], false), e = clamp_index(ends[i], true);
    if (step > 0) {
      x = x.slice(axis, s, std::max(s, e), step);
    } else {
      // Negative step: take s, s+step, ... > e; flip a forward slice.
      int64_t count = s > e ? (s - e - 1) / (-step) + 1 : 0;
      if (count == 0) {
        x = x.slice(axis, 0, 0);
      } else {
        int64_t last = s + (count - 1) * step;
        x = x.slice(axis, last, s + 1, -step).flip(axis);
      }
    }
  }
  return {x};
}

Ts shape(OpContext& c) {
  const auto& x = c.input(0);
  int64_t rank = x.dim();
  int64_t start = c.attr_int("start", 0), end = c.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(x.sizes().begin() + start, x.sizes().begin() + end);
  return {torch::tensor(dims, at::kLong).reshape({static_cast<int64_t>(dims.size())})};
}

Ts expand(OpContext& c) {
  const auto& x = c.input(0);
  auto shape = to_int_vector(c.input(1));
  // ONNX Expand broadcasts both ways: a 1 in `shape` keeps the input's dim.
  int64_t rank = std::max<int64_t>(x.dim(), static_cast<int64_t>(shape.size()));
  std::vector<int64_t> out(rank);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t xd = i - (rank - x.dim()) >= 0 ? x.size(i - (rank - x.dim())) : 1;
    int64_t sd = i - (rank - static_cast<int64_t>(shape.size())) >= 0 ? shape[i - (rank - shape.size())] : 1;
    if (xd != sd && xd != 1 && sd != 1) c.fail(fmt::format("cannot broadcast dim {} ({} vs {})", i, xd, sd));
    out[i] = xd == 1 ? sd : xd;
  }
  check_value_shape(c, out, "the expanded shape");
  return {x.expand(out).contiguous()};
}

Ts tile(OpContext& c) {
  const auto& x = c.input(0);
  auto repeats = to_int_vector(c.input(1));
  if (static_cast<int64_t>(repeats.size()) != x.dim())
    c.fail(fmt::format("'repeats' has {} values; the input has {} dims", repeats.size(), x.dim()));
  std::vector<int64_t> out(repeats.size());
  for (size_t d = 0; d < repeats.size(); ++d) {
    if (repeats[d] < 0) c.fail(fmt::format("repeat {} is negative", repeats[d]));
    out[d] = saturating_mul(x.size(static_cast<int64_t>(d)), repeats[d]);
  }
  check_value_shape(c, out, "the tiled shape");
  return {x.repeat(repeats)};
}

}  // namespace

REGISTER_ONNX_OP({"Reshape"}, reshape);
REGISTER_ONNX_OP({"Flatten"}, flatten);
REGISTER_ONNX_OP({"Transpose"}, transpose);
REGISTER_ONNX_OP({"Squeeze"}, squeeze);
REGISTER_ONNX_OP({"Unsqueeze"}, unsqueeze);
REGISTER_ONNX_OP({"Concat"}, concat);
REGISTER_ONNX_OP({"Split"}, split);
REGISTER_ONNX_OP({"Slice"}, slice);
REGISTER_ONNX_OP({"Shape"}, shape);
REGISTER_ONNX_OP({"Size"}, [](OpContext& c) -> Ts { return {torch::scalar_tensor(c.input(0).numel(), at::kLong)}; });
REGISTER_ONNX_OP({"Expand"}, expand);
REGISTER_ONNX_OP({"Tile"}, tile);
REGISTER_ONNX_OP({"Identity"}, [](OpContext& c) -> Ts { return {c.input(0)}; });

}  // namespace mlopt::onnx_eval
