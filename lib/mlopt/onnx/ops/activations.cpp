// Activations: ReLU family, sigmoid-based gates (SiLU, Hardswish, ...), GELU.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::string scalar_like(Context& ctx, double v) {
  return ctx.b().constant(torch::scalar_tensor(v, ctx.dtype(0)), "scalar");
}

void simple(Context& ctx, const std::string& op) { ctx.set_tensor(0, ctx.b().add1(op, {ctx.tensor(0)})); }

void convert_relu(Context& ctx) { simple(ctx, "Relu"); }
void convert_sigmoid(Context& ctx) { simple(ctx, "Sigmoid"); }
void convert_tanh(Context& ctx) { simple(ctx, "Tanh"); }
void convert_softsign(Context& ctx) { simple(ctx, "Softsign"); }

void convert_relu6(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("Clip", {ctx.tensor(0), scalar_like(ctx, 0.0), scalar_like(ctx, 6.0)}));
}

void convert_hardtanh(Context& ctx) {
  double lo = ctx.num_inputs() > 1 ? ctx.to_double(1) : -1.0, hi = ctx.num_inputs() > 2 ? ctx.to_double(2) : 1.0;
  ctx.set_tensor(0, ctx.b().add1("Clip", {ctx.tensor(0), scalar_like(ctx, lo), scalar_like(ctx, hi)}));
}

void convert_silu(Context& ctx) {
  std::string x = ctx.tensor(0);
  ctx.set_tensor(0, ctx.b().add1("Mul", {x, ctx.b().add1("Sigmoid", {x})}));
}

// PyTorch: relu6(x + 3) / 6 == ONNX HardSigmoid(alpha=1/6, beta=0.5).
void convert_hardsigmoid(Context& ctx) {
  ctx.set_tensor(0, ctx.b().add1("HardSigmoid", {ctx.tensor(0)}, {{"alpha", 1.0f / 6}, {"beta", 0.5f}}));
}
void convert_hardswish(Context& ctx) { simple(ctx, "HardSwish"); }

void convert_leaky_relu(Context& ctx) {
  double slope = ctx.num_inputs() > 1 ? ctx.to_double(1) : 0.01;
  ctx.set_tensor(0, ctx.b().add1("LeakyRelu", {ctx.tensor(0)}, {{"alpha", slope}}));
}

void convert_elu(Context& ctx) {
  double alpha = ctx.num_inputs() > 1 ? ctx.to_double(1) : 1.0;
  ctx.set_tensor(0, ctx.b().add1("Elu", {ctx.tensor(0)}, {{"alpha", alpha}}));
}

void convert_prelu(Context& ctx) {
  // PyTorch's weight is per channel (dim 1): reshape to [C, 1, ...] to broadcast.
  std::string x = ctx.tensor(0);
  at::Tensor w = ctx.const_tensor(1);
  int64_t rank = ctx.rank(0);
  std::vector<int64_t> shape{w.numel()};
  for (int64_t d = 2; d < rank; ++d) shape.push_back(1);
  std::string slope = w.numel() == 1 ? ctx.b().constant(w.reshape({})) : ctx.b().constant(w.reshape(shape));
  ctx.set_tensor(0, ctx.b().add1("PRelu", {x, slope}));
}

void convert_softplus(Context& ctx) {
  double beta = ctx.num_inputs() > 1 ? ctx.to_double(1) : 1.0;
  std::string x = ctx.tensor(0);
  if (beta == 1.0) {
    ctx.set_tensor(0, ctx.b().add1("Softplus", {x}));
    return;
  }
  std::string scaled = ctx.b().add1("Mul", {x, scalar_like(ctx, beta)});
  ctx.set_tensor(0, ctx.b().add1("Div", {ctx.b().add1("Softplus", {scaled}), scalar_like(ctx, beta)}));
}

void convert_mish(Context& ctx) {
  std::string x = ctx.tensor(0);
  ctx.set_tensor(0, ctx.b().add1("Mul", {x, ctx.b().add1("Tanh", {ctx.b().add1("Softplus", {x})})}));
}

// gelu(x) = x * 0.5 * (1 + erf(x / sqrt 2)); approximate="tanh" uses the tanh form.
void convert_gelu(Context& ctx) {
  std::string x = ctx.tensor(0);
  std::string approx = ctx.num_inputs() > 1 && ctx.is_constant(1) ? ctx.in(1)->constant.toStringRef() : "none";
  std::string inner;
  if (approx == "tanh") {
    // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
    std::string x3 = ctx.b().add1("Mul", {ctx.b().add1("Mul", {x, x}), x});
    std::string poly = ctx.b().add1("Add", {x, ctx.b().add1("Mul", {x3, scalar_like(ctx, 0.044715)})});
    inner = ctx.b().add1("Tanh", {ctx.b().add1("Mul", {poly, scalar_like(ctx, std::sqrt(2.0 / M_PI))})});
  } else {
    inner = ctx.b().add1("Erf", {ctx.b().add1("Div", {x, scalar_like(ctx, std::sqrt(2.0))})});
  }
  std::string one_plus = ctx.b().add1("Add", {inner, scalar_like(ctx, 1.0)});
  std::string y = ctx.b().add1("Mul", {ctx.b().add1("Mul", {x, one_plus}), scalar_like(ctx, 0.5)});
  ctx.set_tensor(0, y);
}

// Softmax family: ONNX 13+ Softmax over one axis matches PyTorch's.
void softmax(Context& ctx, const std::string& op) {
  std::string x = ctx.tensor(0);
  if (ctx.node()->kind() != c10::aten::_softmax && ctx.node()->kind() != c10::aten::_log_softmax &&
      ctx.num_inputs() > 2 && !ctx.is_none(2)) {
    auto type = static_cast<c10::ScalarType>(ctx.to_int(2));
    if (type != ctx.dtype(0)) x = cast(ctx, x, type);
  }
  ctx.set_tensor(0, ctx.b().add1(op, {x}, {{"axis", ctx.to_int(1)}}));
}
void convert_softmax(Context& ctx) { softmax(ctx, "Softmax"); }
void convert_log_softmax(Context& ctx) { softmax(ctx, "LogSoftmax"); }

}  // namespace

REGISTER_CONVERTER({"aten::relu"}, convert_relu);
REGISTER_CONVERTER({"aten::relu_"}, in_place<convert_relu>);
REGISTER_CONVERTER({"aten::relu6"}, convert_relu6);
REGISTER_CONVERTER({"aten::relu6_"}, in_place<convert_relu6>);
REGISTER_CONVERTER({"aten::hardtanh"}, convert_hardtanh);
REGISTER_CONVERTER({"aten::hardtanh_"}, in_place<convert_hardtanh>);
REGISTER_CONVERTER({"aten::sigmoid"}, convert_sigmoid);
REGISTER_CONVERTER({"aten::sigmoid_"}, in_place<convert_sigmoid>);
REGISTER_CONVERTER({"aten::tanh"}, convert_tanh);
REGISTER_CONVERTER({"aten::silu"}, convert_silu);
REGISTER_CONVERTER({"aten::silu_"}, in_place<convert_silu>);
REGISTER_CONVERTER({"aten::hardsigmoid"}, convert_hardsigmoid);
REGISTER_CONVERTER({"aten::hardsigmoid_"}, in_place<convert_hardsigmoid>);
REGISTER_CONVERTER({"aten::hardswish"}, convert_hardswish);
REGISTER_CONVERTER({"aten::hardswish_"}, in_place<convert_hardswish>);
REGISTER_CONVERTER({"aten::leaky_relu"}, convert_leaky_relu);
REGISTER_CONVERTER({"aten::leaky_relu_"}, in_place<convert_leaky_relu>);
REGISTER_CONVERTER({"aten::elu"}, convert_elu);
REGISTER_CONVERTER({"aten::prelu"}, convert_prelu);
REGISTER_CONVERTER({"aten::softplus"}, convert_softplus);
REGISTER_CONVERTER({"aten::softsign"}, convert_softsign);
REGISTER_CONVERTER({"aten::mish"}, convert_mish);
REGISTER_CONVERTER({"aten::gelu"}, convert_gelu);
REGISTER_CONVERTER({"aten::softmax", "aten::_softmax"}, convert_softmax);
REGISTER_CONVERTER({"aten::log_softmax", "aten::_log_softmax"}, convert_log_softmax);

}  // namespace mlopt::onnx_export
