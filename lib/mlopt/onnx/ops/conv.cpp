// Convolutions (1-3D, grouped, depthwise, transposed, padding 'same'/'valid'),
// and explicit padding (constant, reflect, replicate).
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::vector<int64_t> expand_to(std::vector<int64_t> v, size_t n) {
  if (v.size() == 1 && n > 1) v.assign(n, v[0]);
  return v;
}

// aten::conv{1,2,3}d(input, weight, bias, stride, padding, dilation, groups)
// aten::_convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, ...)
void convert_conv(Context& ctx) {
  bool full = ctx.node()->kind() == c10::aten::_convolution || ctx.node()->kind() == c10::aten::convolution;
  bool transposed = full && ctx.to_bool(6);
  bool is_transpose_op = ctx.node()->kind().toUnqualString() == std::string("conv_transpose1d") ||
                         ctx.node()->kind().toUnqualString() == std::string("conv_transpose2d") ||
                         ctx.node()->kind().toUnqualString() == std::string("conv_transpose3d");
  std::string x = ctx.tensor(0), w = ctx.tensor(1);
  int64_t spatial = ctx.rank(1) - 2;
  std::vector<std::string> ins{x, w};
  if (!ctx.is_none(2)) ins.push_back(ctx.tensor(2));
  auto stride = expand_to(ctx.to_ints(3), spatial);
  int64_t groups;
  std::vector<int64_t> dilation, output_padding;
  std::vector<Attr> attrs;
  if (is_transpose_op) {
    // conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)
    output_padding = expand_to(ctx.to_ints(5), spatial);
    groups = ctx.to_int(6);
    dilation = expand_to(ctx.to_ints(7), spatial);
    transposed = true;
  } else {
    dilation = expand_to(ctx.to_ints(5), spatial);
    groups = full ? ctx.to_int(8) : ctx.to_int(6);
    if (full) output_padding = expand_to(ctx.to_ints(7), spatial);
  }
  auto pad_value = ctx.in(4);
  if (pad_value->is_constant() && pad_value->constant.isString()) {
    const std::string& mode = pad_value->constant.toStringRef();
    if (mode == "same") attrs.emplace_back("auto_pad", "SAME_UPPER");
    else attrs.emplace_back("pads", std::vector<int64_t>(2 * spatial, 0));
  } else {
    auto pad = expand_to(ctx.to_ints(4), spatial);
    std::vector<int64_t> pads(pad);
    pads.insert(pads.end(), pad.begin(), pad.end());
    attrs.emplace_back("pads", pads);
  }
  attrs.emplace_back("strides", stride);
  attrs.emplace_back("dilations", dilation);
  attrs.emplace_back("group", groups);
  if (auto ti = ctx.info(1)) {
    std::vector<int64_t> kernel(ti->sizes.begin() + 2, ti->sizes.end());
    attrs.emplace_back("kernel_shape", kernel);
  }
  bool any_out_pad = false;
  for (auto p : output_padding) any_out_pad = any_out_pad || p != 0;
  if (transposed && any_out_pad) attrs.emplace_back("output_padding", output_padding);
  std::string y = ctx.b().add_node(transposed ? "ConvTranspose" : "Conv", ins, attrs, 1, "conv")[0];
  ctx.set_tensor(0, y);
}

// Explicit padding: PyTorch lists (left, right) pairs from the last dim
// backwards; ONNX wants all begins then all ends, first dim first.
std::string onnx_pads(Context& ctx, const std::vector<int64_t>& torch_pads, int64_t rank) {
  std::vector<int64_t> begins(rank, 0), ends(rank, 0);
  for (size_t k = 0; k + 1 < torch_pads.size() + 1 && k / 2 < static_cast<size_t>(rank); k += 2) {
    int64_t d = rank - 1 - static_cast<int64_t>(k / 2);
    begins[d] = torch_pads[k];
    ends[d] = torch_pads[k + 1];
  }
  begins.insert(begins.end(), ends.begin(), ends.end());
  return ctx.b().ints(begins);
}

void pad_with_mode(Context& ctx, const std::string& mode, double value) {
  int64_t rank = ctx.rank(0);
  std::string x = ctx.tensor(0);
  std::vector<std::string> ins{x, onnx_pads(ctx, ctx.to_ints(1), rank)};
  if (mode == "constant") ins.push_back(ctx.b().constant(torch::scalar_tensor(value, ctx.dtype(0)), "pad_value"));
  ctx.set_tensor(0, ctx.b().add1("Pad", ins, {{"mode", mode}}));
}

void convert_constant_pad(Context& ctx) {
  pad_with_mode(ctx, "constant", ctx.num_inputs() > 2 ? ctx.to_double(2) : 0.0);
}
void convert_reflection_pad(Context& ctx) { pad_with_mode(ctx, "reflect", 0); }
void convert_replication_pad(Context& ctx) { pad_with_mode(ctx, "edge", 0); }

// aten::pad(input, pad, mode, value)
void convert_pad(Context& ctx) {
  std::string mode = ctx.in(2)->constant.toStringRef();
  double value = ctx.num_inputs() > 3 && !ctx.is_none(3) ? ctx.to_double(3) : 0.0;
  if (mode == "constant") pad_with_mode(ctx, "constant", value);
  else if (mode == "reflect") pad_with_mode(ctx, "reflect", 0);
  else if (mode == "replicate") pad_with_mode(ctx, "edge", 0);
  else ctx.fail_op("padding mode '" + mode + "' is not supported (constant, reflect, replicate are)");
}

}  // namespace

REGISTER_CONVERTER({"aten::conv1d", "aten::conv2d", "aten::conv3d", "aten::_convolution", "aten::convolution",
                    "aten::conv_transpose1d", "aten::conv_transpose2d", "aten::conv_transpose3d"},
                   convert_conv);
REGISTER_CONVERTER({"aten::constant_pad_nd"}, convert_constant_pad);
REGISTER_CONVERTER({"aten::reflection_pad1d", "aten::reflection_pad2d", "aten::reflection_pad3d"}, convert_reflection_pad);
REGISTER_CONVERTER({"aten::replication_pad1d", "aten::replication_pad2d", "aten::replication_pad3d"}, convert_replication_pad);
REGISTER_CONVERTER({"aten::pad"}, convert_pad);

}  // namespace mlopt::onnx_export
