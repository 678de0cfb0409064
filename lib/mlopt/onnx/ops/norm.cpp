// Normalization: BatchNorm (left after folding), LayerNorm, GroupNorm, InstanceNorm.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

at::Tensor const_or(Context& ctx, size_t i, const at::Tensor& fallback) {
  return ctx.is_none(i) ? fallback : ctx.const_tensor(i);
}

// batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn)
void convert_batch_norm(Context& ctx) {
  if (ctx.to_bool(5)) ctx.fail_op("training-mode batch norm cannot be exported");
  at::Tensor mean = ctx.const_tensor(3), var = ctx.const_tensor(4);
  at::Tensor w = const_or(ctx, 1, at::ones_like(mean)), bias = const_or(ctx, 2, at::zeros_like(mean));
  double eps = ctx.to_double(7);
  // A BatchNorm not foldable into a layer before it (DenseNet's BN-ReLU-Conv).
  std::vector<std::string> ins{ctx.tensor(0), ctx.b().constant(w, "bn_scale"), ctx.b().constant(bias, "bn_bias"),
                               ctx.b().constant(mean, "bn_mean"), ctx.b().constant(var, "bn_var")};
  ctx.set_tensor(0, ctx.b().add1("BatchNormalization", ins, {{"epsilon", eps}}));
}

// layer_norm(input, normalized_shape, weight, bias, eps, cudnn)
void convert_layer_norm(Context& ctx) {
  auto shape = ctx.to_ints(1);
  int64_t axis = -static_cast<int64_t>(shape.size());
  double eps = ctx.to_double(4);
  auto type = ctx.dtype(0);
  at::Tensor ones = at::ones(shape, at::TensorOptions(type));
  at::Tensor w = const_or(ctx, 2, ones), b = const_or(ctx, 3, at::zeros_like(ones));
  std::string x = ctx.tensor(0);
  if (ctx.opset() >= 17) {
    ctx.set_tensor(0, ctx.b().add1("LayerNormalization", {x, ctx.b().constant(w), ctx.b().constant(b)},
                                   {{"axis", axis}, {"epsilon", eps}}));
    return;
  }
  // Opset < 17: mean/variance by ReduceMean over the normalized axes.
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < 0; ++a) axes.push_back(a);
  std::string mean = ctx.b().add1("ReduceMean", {x}, {{"axes", axes}});
  std::string centered = ctx.b().add1("Sub", {x, mean});
  std::string var = ctx.b().add1("ReduceMean", {ctx.b().add1("Mul", {centered, centered})}, {{"axes", axes}});
  std::string denom = ctx.b().add1("Sqrt", {ctx.b().add1("Add", {var, ctx.b().constant(torch::scalar_tensor(eps, type))})});
  std::string y = ctx.b().add1("Div", {centered, denom});
  y = ctx.b().add1("Add", {ctx.b().add1("Mul", {y, ctx.b().constant(w)}), ctx.b().constant(b)});
  ctx.set_tensor(0, y);
}

// group_norm(input, groups, weight, bias, eps, cudnn): reshape to (N, G, -1),
// normalize with InstanceNormalization-free math, reshape back, affine per channel.
void convert_group_norm(Context& ctx) {
  int64_t groups = ctx.to_int(1);
  double eps = ctx.to_double(4);
  int64_t rank = ctx.rank(0);
  auto type = ctx.dtype(0);
  std::string x = ctx.tensor(0);
  std::string grouped = ctx.b().add1("Reshape", {x, ctx.b().ints({0, groups, -1})});
  std::string mean = ctx.b().add1("ReduceMean", {grouped}, {{"axes", std::vector<int64_t>{2}}});
  std::string centered = ctx.b().add1("Sub", {grouped, mean});
  std::string var = ctx.b().add1("ReduceMean", {ctx.b().add1("Mul", {centered, centered})}, {{"axes", std::vector<int64_t>{2}}});
  std::string denom = ctx.b().add1("Sqrt", {ctx.b().add1("Add", {var, ctx.b().constant(torch::scalar_tensor(eps, type))})});
  std::string y = ctx.b().add1("Reshape", {ctx.b().add1("Div", {centered, denom}), shape_of(ctx, x)});
  std::vector<int64_t> cshape{-1};
  for (int64_t d = 2; d < rank; ++d) cshape.push_back(1);
  if (!ctx.is_none(2)) y = ctx.b().add1("Mul", {y, ctx.b().constant(ctx.const_tensor(2).reshape(cshape))});
  if (!ctx.is_none(3)) y = ctx.b().add1("Add", {y, ctx.b().constant(ctx.const_tensor(3).reshape(cshape))});
  ctx.set_tensor(0, y);
}

// instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn)
void convert_instance_norm(Context& ctx) {
  if (!ctx.to_bool(5)) {
    // Running statistics (track_running_stats=True in eval mode): per channel, as BatchNorm.
    if (ctx.is_none(3) || ctx.is_none(4)) ctx.fail_op("use_input_stats=False needs running_mean and running_var");
    convert_batch_norm(ctx);
    return;
  }
  std::string x = ctx.tensor(0);
  auto ti = ctx.info(0);
  if (!ti) ctx.fail_op("input sizes unknown");
  int64_t c = ti->sizes[1];
  auto type = ctx.dtype(0);
  at::Tensor w = const_or(ctx, 1, at::ones({c}, type)), b = const_or(ctx, 2, at::zeros({c}, type));
  ctx.set_tensor(0, ctx.b().add1("InstanceNormalization", {x, ctx.b().constant(w), ctx.b().constant(b)},
                                 {{"epsilon", ctx.to_double(7)}}));
}

}  // namespace

REGISTER_CONVERTER({"aten::batch_norm"}, convert_batch_norm);
REGISTER_CONVERTER({"aten::layer_norm"}, convert_layer_norm);
REGISTER_CONVERTER({"aten::group_norm"}, convert_group_norm);
REGISTER_CONVERTER({"aten::instance_norm"}, convert_instance_norm);

}  // namespace mlopt::onnx_export
