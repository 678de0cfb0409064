// Resize (opset 11+) and Upsample: nearest and linear, computed axis by axis
// with ONNX's coordinate transformations; cubic through ATen for 4-D inputs.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// Source coordinate of output index `i` along an axis of `in` -> `out` elements.
double source_coordinate(const std::string& mode, double i, int64_t in, int64_t out, double scale) {
  if (mode == "half_pixel") return (i + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel") return out > 1 ? (i + 0.5) / scale - 0.5 : 0.0;
  if (mode == "align_corners") return out == 1 ? 0.0 : i * static_cast<double>(in - 1) / static_cast<double>(out - 1);
  if (mode == "asymmetric") return i / scale;
  if (mode == "tf_half_pixel_for_nn") return (i + 0.5) / scale;
  return std::nan("");
}

int64_t nearest_index(const std::string& mode, double x) {
  if (mode == "round_prefer_ceil") return static_cast<int64_t>(std::floor(x + 0.5));
  if (mode == "floor") return static_cast<int64_t>(std::floor(x));
  if (mode == "ceil") return static_cast<int64_t>(std::ceil(x));
  return static_cast<int64_t>(std::ceil(x - 0.5));  // round_prefer_floor
}

at::Tensor resize_axis(const OpContext& c, const at::Tensor& x, int64_t axis, int64_t out, double scale,
                       const std::string& mode, const std::string& ctm, const std::string& nearest_mode) {
  int64_t in = x.size(axis);
  if (in == out && scale == 1.0) return x;
  std::vector<int64_t> lo(out), hi(out);
  std::vector<double> w(out);
  for (int64_t i = 0; i < out; ++i) {
    double src = source_coordinate(ctm, static_cast<double>(i), in, out, scale);
    if (std::isnan(src)) c.fail("coordinate_transformation_mode '" + ctm + "' is not supported");
    if (mode == "nearest") {
      lo[i] = hi[i] = std::clamp<int64_t>(nearest_index(nearest_mode, src), 0, in - 1);
      w[i] = 0;
    } else {
      src = std::clamp(src, 0.0, static_cast<double>(in - 1));
      lo[i] = static_cast<int64_t>(std::floor(src));
      hi[i] = std::min(lo[i] + 1, in - 1);
      w[i] = src - static_cast<double>(lo[i]);
    }
  }
  auto a = x.index_select(axis, torch::tensor(lo, at::kLong));
  if (mode == "nearest") return a;
  auto b = x.index_select(axis, torch::tensor(hi, at::kLong));
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[static_cast<size_t>(axis)] = out;
  auto weight = torch::tensor(w, at::kDouble).to(x.scalar_type()).reshape(shape);
  return a + (b - a) * weight;
}

Ts resize(OpContext& c) {
  const auto& x = c.input(0);
  int64_t rank = x.dim();
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  bool upsample = c.node.op_type() == "Upsample";
  if (upsample || c.opset < 11) {
    if (c.has_input(1)) {
      auto s = c.input(1).to(at::kDouble);
      scales.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
    } else {
      for (double v : c.attr_floats("scales")) scales.push_back(v);
    }
  } else {
    if (c.has_input(2) && c.input(2).numel() > 0) {
      auto s = c.input(2).to(at::kDouble).contiguous();
      scales.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
    }
    if (c.has_input(3) && c.input(3).numel() > 0) sizes = to_int_vector(c.input(3));
  }
  if (!sizes.empty()) {
    if (static_cast<int64_t>(sizes.size()) != rank) c.fail("'sizes' must have one value per input dim");
    scales.clear();
    for (int64_t d = 0; d < rank; ++d) scales.push_back(static_cast<double>(sizes[d]) / static_cast<double>(x.size(d)));
  } else {
    if (static_cast<int64_t>(scales.size()) != rank) c.fail("'scales' must have one value per input dim");
    // Checked in double first: a hostile scale (inf, NaN, 1e30) has no int64 size.
    double total = 1;
    for (int64_t d = 0; d < rank; ++d) {
      if (!(scales[d] > 0) || std::isinf(scales[d])) c.fail(fmt::format("scale {} on dim {} is not a positive number", scales[d], d));
      total *= std::floor(static_cast<double>(x.size(d)) * scales[d]);
    }
    check_value_elements(c, total, "the resized output");
    for (int64_t d = 0; d < rank; ++d) sizes.push_back(static_cast<int64_t>(std::floor(x.size(d) * scales[d])));
  }
  check_value_shape(c, sizes, "the resized shape");
  std::string mode = c.attr_string("mode", "nearest");
  std::string ctm = c.attr_string("coordinate_transformation_mode", c.opset < 11 || upsample ? "asymmetric" : "half_pixel");
  std::string nearest_mode = c.attr_string("nearest_mode", c.opset < 11 || upsample ? "floor" : "round_prefer_floor");
  if (mode == "cubic") {
    if (rank != 4 || sizes[0] != x.size(0) || sizes[1] != x.size(1)) c.fail("cubic Resize supports 4-D NCHW inputs only");
    if (c.attr_float("cubic_coeff_a", -0.75) != -0.75 || c.attr_int("exclude_outside", 0))
      c.fail("cubic Resize supports cubic_coeff_a=-0.75 and exclude_outside=0 only");
    bool align = ctm == "align_corners";
    if (!align && ctm != "half_pixel" && ctm != "pytorch_half_pixel") c.fail("cubic Resize with '" + ctm + "' is not supported");
    return {at::upsample_bicubic2d(x, {sizes[2], sizes[3]}, align, align ? c10::nullopt : c10::optional<double>(scales[2]),
                                   align ? c10::nullopt : c10::optional<double>(scales[3]))};
  }
  if (mode != "nearest" && mode != "linear" && mode != "bilinear") c.fail("Resize mode '" + mode + "' is not supported");
  if (mode == "bilinear") mode = "linear";
  at::Tensor y = x;
  for (int64_t d = 0; d < rank; ++d) y = resize_axis(c, y, d, sizes[d], scales[d], mode, ctm, nearest_mode);
  return {y.contiguous()};
}

}  // namespace

REGISTER_ONNX_OP(resize, "Resize", "Upsample");

}  // namespace mlopt::onnx_eval
