// Compress (elements where a condition holds) and ReverseSequence (each
// batch entry's first sequence_lens steps reversed).
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// Without an axis the input is flattened first; a condition shorter than the
// axis keeps only its own length.
Ts compress(OpContext& c) {
  at::Tensor x = c.input(0);
  auto condition = c.input(1).to(at::kBool).reshape({-1});
  int64_t axis = 0;
  if (c.has_attr("axis")) axis = normalize_axis(c.attr_int("axis", 0), x.dim(), c);
  else x = x.reshape({-1});
  if (condition.numel() > x.size(axis))
    c.fail(fmt::format("the condition has {} values, the axis only {}", condition.numel(), x.size(axis)));
  auto kept = condition.nonzero().reshape({-1});
  return {x.index_select(axis, kept)};
}

Ts reverse_sequence(OpContext& c) {
  const auto& x = c.input(0);
  auto lens = to_int_vector(c.input(1));
  int64_t batch_axis = normalize_axis(c.attr_int("batch_axis", 1), x.dim(), c);
  int64_t time_axis = normalize_axis(c.attr_int("time_axis", 0), x.dim(), c);
  if (batch_axis == time_axis) c.fail("batch_axis and time_axis must differ");
  if (static_cast<int64_t>(lens.size()) != x.size(batch_axis))
    c.fail(fmt::format("sequence_lens has {} values for a batch of {}", lens.size(), x.size(batch_axis)));
  auto y = x.clone();
  int64_t time_in_slice = time_axis > batch_axis ? time_axis - 1 : time_axis;
  for (int64_t b = 0; b < x.size(batch_axis); ++b) {
    int64_t len = lens[static_cast<size_t>(b)];
    if (len < 0 || len > x.size(time_axis))
      c.fail(fmt::format("sequence length {} is outside [0, {}]", len, x.size(time_axis)));
    auto src = x.select(batch_axis, b).narrow(time_in_slice, 0, len);
    y.select(batch_axis, b).narrow(time_in_slice, 0, len).copy_(src.flip(time_in_slice));
  }
  return {y};
}

}  // namespace

REGISTER_ONNX_OP({"Compress"}, compress);
REGISTER_ONNX_OP({"ReverseSequence"}, reverse_sequence);

}  // namespace mlopt::onnx_eval
