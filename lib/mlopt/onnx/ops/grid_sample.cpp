// F.grid_sample: aten::grid_sampler(input, grid, interpolation_mode,
// padding_mode, align_corners) -> ONNX GridSample (opset 16; 4-D input and a
// [N, H, W, 2] grid, as ONNX took PyTorch's definition). The modes' codes are
// PyTorch's: interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros,
// 1 border, 2 reflection.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::string mode_name(Context& ctx, size_t i, const std::vector<const char*>& names, const char* what) {
  int64_t code = ctx.to_int(i);
  if (code < 0 || code >= static_cast<int64_t>(names.size()))
    ctx.fail_op(fmt::format("{} code {} is not one of 0..{}", what, code, names.size() - 1));
  return names[static_cast<size_t>(code)];
}

void convert_grid_sampler(Context& ctx) {
  if (ctx.opset() < 16)
    ctx.fail_op(fmt::format("grid_sample needs ONNX GridSample, opset 16 or later (exporting opset {}); use --opset 16",
                            ctx.opset()));
  if (ctx.rank(0) != 4)
    ctx.fail_op(fmt::format("grid_sample of a {}-D input: GridSample takes 4-D inputs (5-D needs opset 20)", ctx.rank(0)));
  std::string mode = mode_name(ctx, 2, {"bilinear", "nearest", "bicubic"}, "interpolation_mode");
  std::string padding = mode_name(ctx, 3, {"zeros", "border", "reflection"}, "padding_mode");
  auto type = ctx.dtype(0);
  std::string y = ctx.b().add1("GridSample", {ctx.tensor(0), ctx.tensor_as(1, type)},
                               {{"mode", mode}, {"padding_mode", padding}, {"align_corners", int64_t{ctx.to_bool(4)}}});
  ctx.set_tensor(0, y);
}

}  // namespace

REGISTER_CONVERTER({"aten::grid_sampler", "aten::grid_sampler_2d"}, convert_grid_sampler);

}  // namespace mlopt::onnx_export
