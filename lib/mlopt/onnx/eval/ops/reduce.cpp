// Reductions (ReduceSum takes axes as an input from opset 13, the others from
// opset 18) and ArgMax/ArgMin.
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;
using Reducer = std::function<at::Tensor(const at::Tensor&, const std::vector<int64_t>&, bool)>;

Ts reduce(OpContext& c, bool axes_input_from_13, const Reducer& f) {
  const auto& x = c.input(0);
  bool keep = c.attr_int("keepdims", 1) != 0;
  std::vector<int64_t> axes;
  bool axes_as_input = axes_input_from_13 ? c.opset >= 13 : c.opset >= 18;
  if (axes_as_input) {
    if (c.has_input(1)) axes = to_int_vector(c.input(1));
  } else {
    axes = c.attr_ints("axes");
  }
  if (axes.empty()) {
    if (c.attr_int("noop_with_empty_axes", 0)) return {x};
    for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
  }
  for (auto& a : axes) a = normalize_axis(a, x.dim(), c);
  if (x.dim() == 0) return {x};
  return {f(x, axes, keep)};
}

at::Tensor r_sum(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return x.sum(a, k); }
at::Tensor r_mean(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return x.mean(a, k); }
at::Tensor r_max(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return x.amax(a, k); }
at::Tensor r_min(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return x.amin(a, k); }
at::Tensor r_prod(const at::Tensor& x, const std::vector<int64_t>& a, bool k) {
  at::Tensor y = x;
  std::vector<int64_t> sorted = a;
  std::sort(sorted.rbegin(), sorted.rend());
  for (auto d : sorted) y = y.prod(d, k);
  return y;
}
at::Tensor r_sum_square(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return (x * x).sum(a, k); }
at::Tensor r_l1(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return x.abs().sum(a, k); }
at::Tensor r_l2(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return (x * x).sum(a, k).sqrt(); }
at::Tensor r_logsumexp(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return at::logsumexp(x, a, k); }
at::Tensor r_logsum(const at::Tensor& x, const std::vector<int64_t>& a, bool k) { return x.sum(a, k).log(); }

Ts arg(OpContext& c, bool max) {
  const auto& x = c.input(0);
  int64_t axis = normalize_axis(c.attr_int("axis", 0), x.dim(), c);
  bool keep = c.attr_int("keepdims", 1) != 0;
  if (c.attr_int("select_last_index", 0)) {
    // Flip, take the first, map back.
    auto flipped = x.flip(axis);
    auto idx = max ? flipped.argmax(axis, keep) : flipped.argmin(axis, keep);
    return {(x.size(axis) - 1) - idx};
  }
  return {max ? x.argmax(axis, keep) : x.argmin(axis, keep)};
}

}  // namespace

REGISTER_ONNX_OP({"ReduceSum"}, [](OpContext& c) { return reduce(c, true, r_sum); });
REGISTER_ONNX_OP({"ReduceMean"}, [](OpContext& c) { return reduce(c, false, r_mean); });
REGISTER_ONNX_OP({"ReduceMax"}, [](OpContext& c) { return reduce(c, false, r_max); });
REGISTER_ONNX_OP({"ReduceMin"}, [](OpContext& c) { return reduce(c, false, r_min); });
REGISTER_ONNX_OP({"ReduceProd"}, [](OpContext& c) { return reduce(c, false, r_prod); });
REGISTER_ONNX_OP({"ReduceSumSquare"}, [](OpContext& c) { return reduce(c, false, r_sum_square); });
REGISTER_ONNX_OP({"ReduceL1"}, [](OpContext& c) { return reduce(c, false, r_l1); });
REGISTER_ONNX_OP({"ReduceL2"}, [](OpContext& c) { return reduce(c, false, r_l2); });
REGISTER_ONNX_OP({"ReduceLogSumExp"}, [](OpContext& c) { return reduce(c, false, r_logsumexp); });
REGISTER_ONNX_OP({"ReduceLogSum"}, [](OpContext& c) { return reduce(c, false, r_logsum); });
REGISTER_ONNX_OP({"ArgMax"}, [](OpContext& c) { return arg(c, true); });
REGISTER_ONNX_OP({"ArgMin"}, [](OpContext& c) { return arg(c, false); });

}  // namespace mlopt::onnx_eval
