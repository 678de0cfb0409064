// Linear layers and matrix products: linear, matmul, mm, bmm, addmm, baddbmm, einsum.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

// linear(x, W, b): Gemm for 2-D inputs, else MatMul by the pre-transposed
// weight plus the bias (ORT fuses MatMul+Add).
void convert_linear(Context& ctx) {
  std::string x = ctx.tensor(0);
  bool has_bias = ctx.num_inputs() > 2 && !ctx.is_none(2);
  int64_t rank = ctx.rank(0);
  if (rank == 2 && ctx.is_constant(1)) {
    std::vector<std::string> ins{x, ctx.tensor(1)};
    if (has_bias) ins.push_back(ctx.tensor(2));
    ctx.set_tensor(0, ctx.b().add1("Gemm", ins, {{"transB", int64_t{1}}}, "linear"));
    return;
  }
  std::string wt = ctx.is_constant(1) ? ctx.b().constant(ctx.const_tensor(1).t().contiguous(), "weight_t")
                                      : ctx.b().add1("Transpose", {ctx.tensor(1)}, {{"perm", std::vector<int64_t>{1, 0}}});
  std::string y = ctx.b().add1("MatMul", {x, wt}, {}, "linear");
  if (has_bias) y = ctx.b().add1("Add", {y, ctx.tensor(2)});
  ctx.set_tensor(0, y);
}

void convert_matmul(Context& ctx) { ctx.set_tensor(0, ctx.b().add1("MatMul", {ctx.tensor(0), ctx.tensor(1)})); }

std::string scaled(Context& ctx, const std::string& x, double s) {
  if (s == 1.0) return x;
  return ctx.b().add1("Mul", {x, ctx.b().constant(torch::scalar_tensor(s, ctx.dtype(0)), "scale")});
}

// addmm(input, m1, m2, beta, alpha) = beta*input + alpha*(m1 @ m2)
void convert_addmm(Context& ctx) {
  double beta = ctx.num_inputs() > 3 ? ctx.to_double(3) : 1.0, alpha = ctx.num_inputs() > 4 ? ctx.to_double(4) : 1.0;
  ctx.set_tensor(0, ctx.b().add1("Gemm", {ctx.tensor(1), ctx.tensor(2), ctx.tensor(0)},
                                 {{"alpha", alpha}, {"beta", beta}}));
}

// baddbmm(input, b1, b2, beta, alpha) = beta*input + alpha*(b1 @ b2)
void convert_baddbmm(Context& ctx) {
  double beta = ctx.num_inputs() > 3 ? ctx.to_double(3) : 1.0, alpha = ctx.num_inputs() > 4 ? ctx.to_double(4) : 1.0;
  std::string prod = scaled(ctx, ctx.b().add1("MatMul", {ctx.tensor(1), ctx.tensor(2)}), alpha);
  if (beta == 0.0) {
    ctx.set_tensor(0, prod);
    return;
  }
  ctx.set_tensor(0, ctx.b().add1("Add", {scaled(ctx, ctx.tensor(0), beta), prod}));
}

void convert_einsum(Context& ctx) {
  std::string eq = ctx.in(0)->constant.toStringRef();
  auto list = ctx.in(1);
  std::vector<std::string> ins;
  if (list->is_list())
    for (auto& item : list->items) ins.push_back(ctx.materialize(item));
  else
    ctx.fail_op("expected a list of tensors");
  ctx.set_tensor(0, ctx.b().add_node("Einsum", ins, {{"equation", eq}}, 1, "einsum")[0]);
}

}  // namespace

REGISTER_CONVERTER({"aten::linear"}, convert_linear);
REGISTER_CONVERTER({"aten::matmul", "aten::mm", "aten::bmm"}, convert_matmul);
REGISTER_CONVERTER({"aten::addmm"}, convert_addmm);
REGISTER_CONVERTER({"aten::baddbmm"}, convert_baddbmm);
REGISTER_CONVERTER({"aten::einsum"}, convert_einsum);

}  // namespace mlopt::onnx_export
