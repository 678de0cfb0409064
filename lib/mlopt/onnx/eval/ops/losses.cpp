// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+), as the
// ONNX reference computes them: classes on axis 1, an optional per-class
// weight, an ignore_index whose targets count neither in the loss nor in the
// mean's denominator, reduction none / sum / mean.
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// `log_prob`: [N, C, d...]; `target`: [N, d...] class indices.
at::Tensor nll(const OpContext& c, const at::Tensor& log_prob, const at::Tensor& target_in,
               const at::Tensor& weight) {
  if (log_prob.dim() < 2) c.fail(fmt::format("the input must be [N, C, ...], got {} dim(s)", log_prob.dim()));
  auto target = target_in.to(at::kLong);
  int64_t classes = log_prob.size(1);
  std::vector<int64_t> expected(log_prob.sizes().begin(), log_prob.sizes().end());
  expected.erase(expected.begin() + 1);
  if (target.sizes() != at::IntArrayRef(expected))
    c.fail(fmt::format("the target's shape [{}] must be the input's without its class axis [{}]",
                       fmt::join(target.sizes(), ", "), fmt::join(expected, ", ")));
  bool has_ignore = c.has_attr("ignore_index");
  int64_t ignore = c.attr_int("ignore_index", 0);
  auto kept = has_ignore ? target.ne(ignore) : at::ones_like(target, at::kBool);
  auto in_range = target.ge(0).logical_and(target.lt(classes));
  if (!in_range.logical_or(kept.logical_not()).all().item<bool>())
    c.fail(fmt::format("a target is outside [0, {}) and is not the ignore_index", classes));
  auto index = at::where(kept, target, at::zeros_like(target)).clamp(0, classes - 1);
  auto picked = -log_prob.gather(1, index.unsqueeze(1)).squeeze(1);
  auto mask = kept.to(log_prob.scalar_type());
  auto w = weight.defined() ? weight.to(log_prob.scalar_type()).index({index}) * mask : mask;
  auto loss = picked * w;
  std::string reduction = c.attr_string("reduction", "mean");
  if (reduction == "none") return loss;
  if (reduction == "sum") return loss.sum();
  if (reduction != "mean") c.fail("reduction '" + reduction + "' is not one of none, sum, mean");
  if (!weight.defined() && !has_ignore) return loss.mean();
  return loss.sum() / w.sum();
}

Ts nll_loss(OpContext& c) {
  return {nll(c, c.input(0), c.input(1), c.has_input(2) ? c.input(2) : at::Tensor())};
}

Ts softmax_cross_entropy(OpContext& c) {
  auto log_prob = at::log_softmax(c.input(0), 1);
  return {nll(c, log_prob, c.input(1), c.has_input(2) ? c.input(2) : at::Tensor()), log_prob};
}

}  // namespace

REGISTER_ONNX_OP({"NegativeLogLikelihoodLoss"}, nll_loss);
REGISTER_ONNX_OP({"SoftmaxCrossEntropyLoss"}, softmax_cross_entropy);

}  // namespace mlopt::onnx_eval
