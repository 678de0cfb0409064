// Tensor creation: zeros/ones/full(_like), arange. Constant sizes fold at
// export time; these converters handle sizes that depend on dynamic dims.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

c10::ScalarType dtype_arg(Context& ctx, size_t i, c10::ScalarType fallback) {
  if (i >= ctx.num_inputs() || ctx.is_none(i)) return fallback;
  return static_cast<c10::ScalarType>(ctx.to_int(i));
}

std::string constant_of_shape(Context& ctx, const std::string& shape, double value, c10::ScalarType type) {
  auto proto = tensor_to_proto(torch::full({1}, value, at::TensorOptions(type)), "value");
  return ctx.b().add1("ConstantOfShape", {shape}, {{"value", proto}});
}

// zeros/ones(size, dtype, layout, device, pin_memory)
void fill(Context& ctx, double value) {
  auto type = dtype_arg(ctx, 1, at::kFloat);
  ctx.set_tensor(0, constant_of_shape(ctx, ctx.ints_1d(0), value, type));
}
void convert_zeros(Context& ctx) { fill(ctx, 0); }
void convert_ones(Context& ctx) { fill(ctx, 1); }
// A tensor of `shape` filled with input `value_at`: ConstantOfShape when the
// value is known at export time, else the value expanded (torchvision's
// anchor strides: `torch.empty(()).fill_(image_size // grid_size)`).
std::string filled(Context& ctx, const std::string& shape, size_t value_at, c10::ScalarType type) {
  if (ctx.is_constant(value_at)) return constant_of_shape(ctx, shape, ctx.to_double(value_at), type);
  return ctx.b().add1("Expand", {ctx.tensor_as(value_at, type), shape});
}

// full(size, fill_value, dtype, ...)
void convert_full(Context& ctx) { ctx.set_tensor(0, filled(ctx, ctx.ints_1d(0), 1, ctx.out_dtype(0))); }

// zeros_like/ones_like(x, dtype, ...), full_like(x, value, dtype, ...)
void fill_like(Context& ctx, double value) {
  auto type = ctx.out_dtype(0);
  ctx.set_tensor(0, constant_of_shape(ctx, shape_of(ctx, ctx.tensor(0)), value, type));
}
void convert_zeros_like(Context& ctx) { fill_like(ctx, 0); }
void convert_ones_like(Context& ctx) { fill_like(ctx, 1); }
void convert_full_like(Context& ctx) { ctx.set_tensor(0, filled(ctx, shape_of(ctx, ctx.tensor(0)), 1, ctx.out_dtype(0))); }

// new_zeros/new_ones(x, size, dtype, ...)
void convert_new_zeros(Context& ctx) {
  ctx.set_tensor(0, constant_of_shape(ctx, ctx.ints_1d(1), 0, ctx.out_dtype(0)));
}
void convert_new_ones(Context& ctx) {
  ctx.set_tensor(0, constant_of_shape(ctx, ctx.ints_1d(1), 1, ctx.out_dtype(0)));
}

// new_full(x, size, fill_value, dtype, ...); new_empty(x, size, ...) as zeros.
void convert_new_full(Context& ctx) { ctx.set_tensor(0, filled(ctx, ctx.ints_1d(1), 2, ctx.out_dtype(0))); }

// arange(end, ...), arange(start, end, ...), arange(start, end, step, ...):
// the overload is told apart by its schema's argument names. Integer
// arguments with an integer result are a Range; otherwise PyTorch's own rule:
// n = ceil((end - start) / step) and value i = start + i * step, both in
// double (ONNX's float Range accumulates the step, and rounds its count in
// float), then cast to the result type.
void convert_arange(Context& ctx) {
  auto start_i = schema_arg(ctx.node(), "start"), end_i = schema_arg(ctx.node(), "end"),
       step_i = schema_arg(ctx.node(), "step");
  if (!end_i) ctx.fail_op("unknown overload");
  bool all_ints = true;
  for (auto i : {start_i, end_i, step_i})
    if (i && c10::isFloatingType(ctx.dtype(*i))) all_ints = false;
  auto type = ctx.out_dtype(0);
  auto& g = ctx.b();
  bool exact = all_ints && !c10::isFloatingType(type);
  auto work = exact ? type : at::kDouble;
  std::string start = g.constant(torch::scalar_tensor(0, work)), step = g.constant(torch::scalar_tensor(1, work));
  if (start_i) start = ctx.tensor_as(*start_i, work);
  std::string end = ctx.tensor_as(*end_i, work);
  if (step_i) step = ctx.tensor_as(*step_i, work);
  if (exact) {
    ctx.set_tensor(0, g.add1("Range", {start, end, step}));
    return;
  }
  std::string n = cast(ctx, g.add1("Ceil", {g.add1("Div", {g.add1("Sub", {end, start}), step})}), at::kLong);
  std::string i = cast(ctx, g.add1("Range", {g.scalar_int(0), n, g.scalar_int(1)}), at::kDouble);
  std::string y = g.add1("Add", {start, g.add1("Mul", {i, step})});
  ctx.set_tensor(0, type == at::kDouble ? y : cast(ctx, y, type));
}

}  // namespace

REGISTER_CONVERTER({"aten::zeros"}, convert_zeros);
REGISTER_CONVERTER({"aten::ones"}, convert_ones);
REGISTER_CONVERTER({"aten::full"}, convert_full);
REGISTER_CONVERTER({"aten::zeros_like"}, convert_zeros_like);
REGISTER_CONVERTER({"aten::ones_like"}, convert_ones_like);
REGISTER_CONVERTER({"aten::full_like"}, convert_full_like);
REGISTER_CONVERTER({"aten::new_zeros", "aten::new_empty"}, convert_new_zeros);
REGISTER_CONVERTER({"aten::new_full"}, convert_new_full);
REGISTER_CONVERTER({"aten::new_ones"}, convert_new_ones);
REGISTER_CONVERTER({"aten::arange"}, convert_arange);

}  // namespace mlopt::onnx_export
