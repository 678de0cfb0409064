// Losses computed inside a graph. reduction: 0 none, 1 mean, 2 sum (PyTorch's
// codes; F.kl_div's 'batchmean' is a sum divided in Python).
//   cross_entropy_loss   class indices: SoftmaxCrossEntropyLoss (weight, ignore_index);
//                        class probabilities: -sum(target * log_softmax(x) * weight) over the
//                        class axis; label_smoothing other than 0 is refused.
//   nll_loss / nll_loss_nd / nll_loss2d
//                        NegativeLogLikelihoodLoss (weight, ignore_index).
//   binary_cross_entropy_with_logits
//                        PyTorch's stable form: (1 - y) x + lw (log(exp(-m) + exp(-x - m)) + m),
//                        m = max(-x, 0), lw = (pos_weight - 1) y + 1, times weight.
//   kl_div               log_target: exp(t) (t - x); else xlogy(t, t) - t x.
//   mse_loss, l1_loss, smooth_l1_loss (beta), huber_loss (delta): of |x - y|.
// Unbatched inputs ([C] with a 0-d target) get a batch dim of 1 for the ONNX
// loss ops, removed again from an unreduced result.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

const char* reduction_name(Context& ctx, int64_t code) {
  switch (code) {
    case 0: return "none";
    case 1: return "mean";
    case 2: return "sum";
    default: ctx.fail_op(fmt::format("reduction code {} is not 0 (none), 1 (mean) or 2 (sum)", code));
  }
}

int64_t reduction_arg(Context& ctx) {
  auto i = schema_arg(ctx.node(), "reduction");
  int64_t code = i ? ctx.to_int(*i) : 1;
  reduction_name(ctx, code);
  return code;
}

// The elementwise loss reduced as asked (every element).
std::string reduced(Context& ctx, const std::string& loss, int64_t code) {
  if (code == 0) return loss;
  return ctx.b().add1(code == 1 ? "ReduceMean" : "ReduceSum", {loss}, {{"keepdims", int64_t{0}}});
}

std::string scalar(Context& ctx, double v, c10::ScalarType type, const std::string& stem) {
  return ctx.b().constant(torch::scalar_tensor(v, type), stem);
}

c10::ScalarType float_type(Context& ctx) {
  auto type = ctx.dtype(0);
  if (!c10::isFloatingType(type)) ctx.fail_op(fmt::format("a loss of a {} input: expected a floating-point one", c10::toString(type)));
  return type;
}

// SoftmaxCrossEntropyLoss / NegativeLogLikelihoodLoss on x [N, C, d...] or [C].
void class_index_loss(Context& ctx, const std::string& op) {
  auto& g = ctx.b();
  auto type = float_type(ctx);
  int64_t code = reduction_arg(ctx);
  bool unbatched = ctx.rank(0) == 1;
  std::string x = ctx.tensor(0), target = ctx.tensor_as(1, at::kLong);
  if (unbatched) {
    x = unsqueeze(ctx, x, {0});
    target = unsqueeze(ctx, target, {0});
  }
  std::vector<std::string> ins{x, target};
  if (!ctx.is_none(2)) ins.push_back(ctx.tensor_as(2, type));
  int64_t ignore_index = -100;
  if (auto i = schema_arg(ctx.node(), "ignore_index")) ignore_index = ctx.to_int(*i);
  std::string loss = g.add(op, ins, {{"reduction", reduction_name(ctx, code)}, {"ignore_index", ignore_index}}, 1,
                           "loss")[0];
  if (unbatched && code == 0) loss = squeeze(ctx, loss, {0});
  ctx.set_tensor(0, loss);
}

// cross_entropy_loss(x, target, weight, reduction, ignore_index, label_smoothing)
void convert_cross_entropy_loss(Context& ctx) {
  if (auto i = schema_arg(ctx.node(), "label_smoothing"); i && !ctx.is_none(*i) && ctx.to_double(*i) != 0.0)
    ctx.fail_op(fmt::format("cross_entropy with label_smoothing={} is not supported (0 only: ONNX "
                            "SoftmaxCrossEntropyLoss has no smoothing)",
                            ctx.to_double(*i)));
  if (!c10::isFloatingType(ctx.dtype(1))) {
    class_index_loss(ctx, "SoftmaxCrossEntropyLoss");
    return;
  }
  // Class probabilities (target shaped as x).
  auto& g = ctx.b();
  auto type = float_type(ctx);
  int64_t code = reduction_arg(ctx);
  int64_t rank = ctx.rank(0);
  int64_t axis = rank == 1 ? 0 : 1;
  std::string log_prob = g.add1("LogSoftmax", {ctx.tensor(0)}, {{"axis", axis}});
  std::string prod = g.add1("Mul", {log_prob, ctx.tensor_as(1, type)});
  if (!ctx.is_none(2)) {
    std::vector<int64_t> shape{-1};
    for (int64_t d = 2; d < rank; ++d) shape.push_back(1);
    prod = g.add1("Mul", {prod, g.add1("Reshape", {ctx.tensor_as(2, type), g.ints(shape)})});
  }
  std::string loss = g.add1("Neg", {g.add1("ReduceSum", {prod, g.ints({axis})}, {{"keepdims", int64_t{0}}})});
  ctx.set_tensor(0, reduced(ctx, loss, code));
}

void convert_nll_loss(Context& ctx) { class_index_loss(ctx, "NegativeLogLikelihoodLoss"); }

// binary_cross_entropy_with_logits(x, target, weight, pos_weight, reduction)
void convert_bce_with_logits(Context& ctx) {
  auto& g = ctx.b();
  auto type = float_type(ctx);
  int64_t code = reduction_arg(ctx);
  std::string x = ctx.tensor(0), y = ctx.tensor_as(1, type);
  std::string zero = scalar(ctx, 0, type, "zero"), one = scalar(ctx, 1, type, "one");
  std::string neg_x = g.add1("Neg", {x});
  std::string m = g.add1("Max", {neg_x, zero});
  std::string soft = g.add1("Add", {g.add1("Log", {g.add1("Add", {g.add1("Exp", {g.add1("Neg", {m})}),
                                                                    g.add1("Exp", {g.add1("Sub", {neg_x, m})})})}),
                                    m});
  if (!ctx.is_none(3)) {
    std::string lw = g.add1("Add", {g.add1("Mul", {g.add1("Sub", {ctx.tensor_as(3, type), one}), y}), one});
    soft = g.add1("Mul", {lw, soft});
  }
  std::string loss = g.add1("Add", {g.add1("Mul", {g.add1("Sub", {one, y}), x}), soft});
  if (!ctx.is_none(2)) loss = g.add1("Mul", {loss, ctx.tensor_as(2, type)});
  ctx.set_tensor(0, reduced(ctx, loss, code));
}

// kl_div(x, target, reduction, *, log_target)
void convert_kl_div(Context& ctx) {
  auto& g = ctx.b();
  auto type = float_type(ctx);
  int64_t code = reduction_arg(ctx);
  bool log_target = false;
  if (auto i = schema_arg(ctx.node(), "log_target")) log_target = ctx.to_bool(*i);
  std::string x = ctx.tensor(0), t = ctx.tensor_as(1, type);
  std::string loss;
  if (log_target) {
    loss = g.add1("Mul", {g.add1("Exp", {t}), g.add1("Sub", {t, x})});
  } else {
    std::string zero = scalar(ctx, 0, type, "zero");
    std::string xlogy = g.add1("Where", {g.add1("Equal", {t, zero}), zero, g.add1("Mul", {t, g.add1("Log", {t})})});
    loss = g.add1("Sub", {xlogy, g.add1("Mul", {t, x})});
  }
  ctx.set_tensor(0, reduced(ctx, loss, code));
}

// |x - target| (broadcast), in x's type.
std::string abs_diff(Context& ctx, c10::ScalarType type) {
  return ctx.b().add1("Abs", {ctx.b().add1("Sub", {ctx.tensor(0), ctx.tensor_as(1, type)})});
}

void convert_mse_loss(Context& ctx) {
  auto type = float_type(ctx);
  std::string d = ctx.b().add1("Sub", {ctx.tensor(0), ctx.tensor_as(1, type)});
  ctx.set_tensor(0, reduced(ctx, ctx.b().add1("Mul", {d, d}), reduction_arg(ctx)));
}

void convert_l1_loss(Context& ctx) {
  auto type = float_type(ctx);
  ctx.set_tensor(0, reduced(ctx, abs_diff(ctx, type), reduction_arg(ctx)));
}

// smooth_l1_loss(x, target, reduction, beta): z < beta ? 0.5 z^2 / beta : z - 0.5 beta (beta 0: l1).
// huber_loss(x, target, reduction, delta):    z < delta ? 0.5 z^2 : delta (z - 0.5 delta).
void quadratic_near_zero(Context& ctx, const std::string& arg, bool huber) {
  auto& g = ctx.b();
  auto type = float_type(ctx);
  int64_t code = reduction_arg(ctx);
  double k = 1.0;
  if (auto i = schema_arg(ctx.node(), arg); i && !ctx.is_none(*i)) k = ctx.to_double(*i);
  if (k < 0) ctx.fail_op(fmt::format("{} must not be negative, got {}", arg, k));
  std::string z = abs_diff(ctx, type);
  if (k == 0) {  // smooth_l1 with beta 0 is l1; PyTorch refuses huber's delta 0
    if (huber) ctx.fail_op("huber_loss needs delta > 0");
    ctx.set_tensor(0, reduced(ctx, z, code));
    return;
  }
  std::string half_sq = g.add1("Mul", {g.add1("Mul", {z, z}), scalar(ctx, huber ? 0.5 : 0.5 / k, type, "half")});
  std::string linear = g.add1("Sub", {z, scalar(ctx, 0.5 * k, type, "half_k")});
  if (huber) linear = g.add1("Mul", {linear, scalar(ctx, k, type, "delta")});
  std::string loss = g.add1("Where", {g.add1("Less", {z, scalar(ctx, k, type, "k")}), half_sq, linear});
  ctx.set_tensor(0, reduced(ctx, loss, code));
}

void convert_smooth_l1_loss(Context& ctx) { quadratic_near_zero(ctx, "beta", false); }
void convert_huber_loss(Context& ctx) { quadratic_near_zero(ctx, "delta", true); }

}  // namespace

REGISTER_CONVERTER({"aten::cross_entropy_loss"}, convert_cross_entropy_loss);
REGISTER_CONVERTER({"aten::nll_loss", "aten::nll_loss_nd", "aten::nll_loss2d"}, convert_nll_loss);
REGISTER_CONVERTER({"aten::binary_cross_entropy_with_logits"}, convert_bce_with_logits);
REGISTER_CONVERTER({"aten::kl_div"}, convert_kl_div);
REGISTER_CONVERTER({"aten::mse_loss"}, convert_mse_loss);
REGISTER_CONVERTER({"aten::l1_loss"}, convert_l1_loss);
REGISTER_CONVERTER({"aten::smooth_l1_loss"}, convert_smooth_l1_loss);
REGISTER_CONVERTER({"aten::huber_loss"}, convert_huber_loss);

}  // namespace mlopt::onnx_export
