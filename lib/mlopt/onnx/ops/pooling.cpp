// Pooling: max/avg (ceil_mode, padding, count_include_pad), adaptive pools.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::vector<int64_t> expand_to(std::vector<int64_t> v, size_t n) {
  if (v.size() == 1 && n > 1) v.assign(n, v[0]);
  return v;
}

std::vector<int64_t> twice(const std::vector<int64_t>& v) {
  std::vector<int64_t> r(v);
  r.insert(r.end(), v.begin(), v.end());
  return r;
}

// max_poolNd(input, kernel, stride, padding, dilation, ceil_mode)
void convert_max_pool(Context& ctx) {
  int64_t spatial = ctx.rank(0) - 2;
  auto kernel = expand_to(ctx.to_ints(1), spatial);
  auto stride = ctx.to_ints(2);
  stride = stride.empty() ? kernel : expand_to(stride, spatial);
  auto pad = expand_to(ctx.to_ints(3), spatial);
  auto dilation = expand_to(ctx.to_ints(4), spatial);
  bool ceil = ctx.num_inputs() > 5 && ctx.to_bool(5);
  std::vector<Attr> attrs{{"kernel_shape", kernel}, {"strides", stride}, {"pads", twice(pad)},
                          {"dilations", dilation}, {"ceil_mode", int64_t{ceil}}};
  ctx.set_tensor(0, ctx.b().add_node("MaxPool", {ctx.tensor(0)}, attrs, 1, "maxpool")[0]);
}

// avg_poolNd(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
void convert_avg_pool(Context& ctx) {
  int64_t spatial = ctx.rank(0) - 2;
  auto kernel = expand_to(ctx.to_ints(1), spatial);
  auto stride = ctx.to_ints(2);
  stride = stride.empty() ? kernel : expand_to(stride, spatial);
  auto pad = expand_to(ctx.to_ints(3), spatial);
  bool ceil = ctx.num_inputs() > 4 && ctx.to_bool(4);
  bool include_pad = ctx.num_inputs() > 5 ? ctx.to_bool(5) : true;
  if (ctx.num_inputs() > 6 && !ctx.is_none(6)) ctx.fail_op("divisor_override is not supported");
  std::vector<Attr> attrs{{"kernel_shape", kernel}, {"strides", stride}, {"pads", twice(pad)},
                          {"ceil_mode", int64_t{ceil}}, {"count_include_pad", int64_t{include_pad}}};
  ctx.set_tensor(0, ctx.b().add_node("AveragePool", {ctx.tensor(0)}, attrs, 1, "avgpool")[0]);
}

// Adaptive pools: output 1 -> global pool; an output that divides the input
// evenly -> a fixed pool (needs static spatial dims).
void adaptive_pool(Context& ctx, bool max) {
  int64_t rank = ctx.rank(0);
  int64_t spatial = rank - 2;
  auto out = expand_to(ctx.to_ints(1), spatial);
  bool global = true;
  for (auto o : out) global = global && o == 1;
  std::string x = ctx.tensor(0);
  if (global) {
    ctx.set_tensor(0, ctx.b().add1(max ? "GlobalMaxPool" : "GlobalAveragePool", {x}));
    if (max && ctx.node()->outputs().size() > 1) ctx.fail_op("returning indices is not supported");
    return;
  }
  auto ti = ctx.info(0);
  if (!ti) ctx.fail_op("input sizes unknown");
  std::vector<int64_t> kernel, stride;
  for (int64_t d = 0; d < spatial; ++d) {
    int64_t in = ti->sizes[2 + d];
    if (ti->dynamic[2 + d] || out[d] == 0 || in % out[d] != 0)
      ctx.fail_op(fmt::format("output size {} must divide the static input size {} (dim {})", out[d], in, 2 + d));
    stride.push_back(in / out[d]);
    kernel.push_back(in / out[d]);
  }
  std::vector<Attr> attrs{{"kernel_shape", kernel}, {"strides", stride}};
  ctx.set_tensor(0, ctx.b().add_node(max ? "MaxPool" : "AveragePool", {x}, attrs, 1, "pool")[0]);
  if (max && ctx.node()->outputs().size() > 1) ctx.fail_op("returning indices is not supported");
}
void convert_adaptive_avg_pool(Context& ctx) { adaptive_pool(ctx, false); }
void convert_adaptive_max_pool(Context& ctx) { adaptive_pool(ctx, true); }

}  // namespace

REGISTER_CONVERTER({"aten::max_pool1d", "aten::max_pool2d", "aten::max_pool3d"}, convert_max_pool);
REGISTER_CONVERTER({"aten::avg_pool1d", "aten::avg_pool2d", "aten::avg_pool3d"}, convert_avg_pool);
REGISTER_CONVERTER({"aten::adaptive_avg_pool1d", "aten::adaptive_avg_pool2d", "aten::adaptive_avg_pool3d"},
                   convert_adaptive_avg_pool);
REGISTER_CONVERTER({"aten::adaptive_max_pool1d", "aten::adaptive_max_pool2d", "aten::adaptive_max_pool3d"},
                   convert_adaptive_max_pool);

}  // namespace mlopt::onnx_export
