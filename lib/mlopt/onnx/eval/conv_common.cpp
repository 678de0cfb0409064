#include "mlopt/onnx/eval/conv_common.h"

namespace mlopt::onnx_eval {

std::vector<int64_t> resolve_pads(const OpContext& c, const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                                  const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations) {
  size_t n = in.size();
  std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    auto pads = c.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
    if (pads.size() != 2 * n) c.fail(fmt::format("'pads' has {} values; expected {}", pads.size(), 2 * n));
    return pads;
  }
  std::vector<int64_t> pads(2 * n, 0);
  if (auto_pad == "VALID") return pads;
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") c.fail("unknown auto_pad '" + auto_pad + "'");
  for (size_t i = 0; i < n; ++i) {
    int64_t out = (in[i] + strides[i] - 1) / strides[i];
    int64_t effective = (kernel[i] - 1) * dilations[i] + 1;
    int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + effective - in[i]);
    int64_t small = total / 2, big = total - small;
    pads[i] = auto_pad == "SAME_UPPER" ? small : big;
    pads[i + n] = auto_pad == "SAME_UPPER" ? big : small;
  }
  return pads;
}

at::Tensor run_conv(const OpContext& c, const at::Tensor& x_in, const at::Tensor& w, const at::Tensor& bias,
                    double pad_value) {
  int64_t spatial = x_in.dim() - 2;
  if (spatial < 1 || spatial > 3) c.fail(fmt::format("expects a 3-D to 5-D input, got {}-D", x_in.dim()));
  auto strides = c.attr_ints("strides", std::vector<int64_t>(spatial, 1));
  auto dilations = c.attr_ints("dilations", std::vector<int64_t>(spatial, 1));
  std::vector<int64_t> in(x_in.sizes().begin() + 2, x_in.sizes().end());
  std::vector<int64_t> kernel(w.sizes().begin() + 2, w.sizes().end());
  auto pads = resolve_pads(c, in, kernel, strides, dilations);
  int64_t group = c.attr_int("group", 1);
  at::Tensor x = x_in;
  std::vector<int64_t> sym(spatial, 0);
  bool symmetric = true;
  for (int64_t i = 0; i < spatial; ++i) {
    if (pads[i] != pads[i + spatial]) symmetric = false;
    sym[i] = pads[i];
  }
  if (!symmetric || pad_value != 0.0) {
    // at::constant_pad_nd takes pads last dim first.
    std::vector<int64_t> p;
    for (int64_t i = spatial - 1; i >= 0; --i) {
      p.push_back(pads[i]);
      p.push_back(pads[i + spatial]);
    }
    x = at::constant_pad_nd(x, p, pad_value);
    std::fill(sym.begin(), sym.end(), 0);
  }
  return at::convolution(x, w, bias, strides, sym, dilations, false, std::vector<int64_t>(spatial, 0), group);
}

}  // namespace mlopt::onnx_eval
