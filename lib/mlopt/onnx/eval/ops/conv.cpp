// Conv and ConvTranspose (1-D to 3-D), with ONNX's padding rules.
#include "mlopt/onnx/eval/conv_common.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

Ts conv(OpContext& c) {
  const auto &x = c.input(0), &w = c.input(1);
  at::Tensor bias = c.has_input(2) ? c.input(2) : at::Tensor();
  return {run_conv(c, x, w, bias)};
}

Ts conv_transpose(OpContext& c) {
  const auto &x = c.input(0), &w = c.input(1);
  int64_t spatial = x.dim() - 2;
  auto strides = c.attr_ints("strides", std::vector<int64_t>(spatial, 1));
  auto dilations = c.attr_ints("dilations", std::vector<int64_t>(spatial, 1));
  auto pads = c.attr_ints("pads", std::vector<int64_t>(2 * spatial, 0));
  auto output_padding = c.attr_ints("output_padding", std::vector<int64_t>(spatial, 0));
  int64_t group = c.attr_int("group", 1);
  std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (c.has_attr("output_shape") || (auto_pad != "NOTSET" && auto_pad != "VALID"))
    c.fail("ConvTranspose with output_shape or SAME auto_pad is not supported by the evaluator");
  std::vector<int64_t> sym(spatial), extra(spatial, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    sym[i] = std::min(pads[i], pads[i + spatial]);
    extra[i] = pads[i + spatial] - sym[i];  // trailing extra: crop afterwards
    if (pads[i] > pads[i + spatial]) c.fail("ConvTranspose with larger begin than end padding is not supported");
  }
  at::Tensor bias = c.has_input(2) ? c.input(2) : at::Tensor();
  at::Tensor y;
  if (spatial == 1) y = at::conv_transpose1d(x, w, bias, strides, sym, output_padding, group, dilations);
  else if (spatial == 2) y = at::conv_transpose2d(x, w, bias, strides, sym, output_padding, group, dilations);
  else if (spatial == 3) y = at::conv_transpose3d(x, w, bias, strides, sym, output_padding, group, dilations);
  else c.fail("ConvTranspose supports 1-D to 3-D inputs");
  for (int64_t i = 0; i < spatial; ++i)
    if (extra[i]) y = y.narrow(2 + i, 0, y.size(2 + i) - extra[i]);
  return {y};
}

}  // namespace

REGISTER_ONNX_OP({"Conv"}, conv);
REGISTER_ONNX_OP({"ConvTranspose"}, conv_transpose);

}  // namespace mlopt::onnx_eval
