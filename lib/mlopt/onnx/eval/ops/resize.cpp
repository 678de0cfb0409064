// Resize (opset 10+) and Upsample: nearest, linear and cubic, computed axis by
// axis as the ONNX reference does: each output index maps to a source
// coordinate (the coordinate transformation mode), then to a few neighbouring
// source elements (the input padded with its edge values) and their weights.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

struct ResizeMode {
  std::string mode;          // nearest, linear, cubic
  std::string ctm;           // coordinate transformation mode
  std::string nearest_mode;  // round_prefer_floor, ...
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;  // tf_crop_and_resize outside the input
};

// Source coordinate of output index `i` along an axis of `in` elements
// resized by `scale`. The reference uses the unrounded output length
// in * scale (align_corners downsampling depends on it). NaN: unknown mode.
double source_coordinate(const std::string& ctm, double i, int64_t in, double scale, double roi_start,
                         double roi_end) {
  double out = static_cast<double>(in) * scale;
  double last = static_cast<double>(in - 1);
  if (ctm == "half_pixel") return (i + 0.5) / scale - 0.5;
  if (ctm == "pytorch_half_pixel") return out > 1 ? (i + 0.5) / scale - 0.5 : 0.0;
  if (ctm == "align_corners") return out == 1 ? 0.0 : i * last / (out - 1);
  if (ctm == "asymmetric") return i / scale;
  if (ctm == "tf_half_pixel_for_nn") return (i + 0.5) / scale;
  if (ctm == "tf_crop_and_resize") {
    if (out == 1) return (roi_end - roi_start) * last / 2 + roi_start * last;
    return i * (roi_end - roi_start) * last / (out - 1) + roi_start * last;
  }
  return std::nan("");
}

int64_t nearest_index(const std::string& mode, double x) {
  if (mode == "round_prefer_ceil") return static_cast<int64_t>(std::floor(x + 0.5));
  if (mode == "floor") return static_cast<int64_t>(std::floor(x));
  if (mode == "ceil") return static_cast<int64_t>(std::ceil(x));
  return static_cast<int64_t>(std::ceil(x - 0.5));  // round_prefer_floor
}

std::vector<double> cubic_coefficients(double r, double a) {
  auto near = [a](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };            // |d| <= 1
  auto far = [a](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };      // 1 < |d| < 2
  return {far(r + 1), near(r), near(1 - r), far(2 - r)};
}

// The taps of one axis: for each output index, source indices and weights.
struct Taps {
  std::vector<std::vector<int64_t>> index;  // [tap][output index]
  std::vector<std::vector<double>> weight;  // [tap][output index]
  std::vector<bool> outside;                // tf_crop_and_resize: extrapolated outputs
};

Taps axis_taps(const OpContext& c, int64_t in, int64_t out, double scale, double roi_start, double roi_end,
               const ResizeMode& m) {
  size_t n = m.mode == "nearest" ? 1 : m.mode == "linear" ? 2 : 4;
  Taps t{std::vector<std::vector<int64_t>>(n, std::vector<int64_t>(static_cast<size_t>(out))),
         std::vector<std::vector<double>>(n, std::vector<double>(static_cast<size_t>(out))),
         std::vector<bool>(static_cast<size_t>(out), false)};
  for (int64_t i = 0; i < out; ++i) {
    auto o = static_cast<size_t>(i);
    double x = source_coordinate(m.ctm, static_cast<double>(i), in, scale, roi_start, roi_end);
    if (std::isnan(x)) c.fail("coordinate_transformation_mode '" + m.ctm + "' is not supported");
    if (m.ctm == "tf_crop_and_resize" && (x < 0 || x > static_cast<double>(in - 1))) t.outside[o] = true;
    if (n == 1) {
      t.index[0][o] = std::clamp<int64_t>(nearest_index(m.nearest_mode, x), 0, in - 1);
      t.weight[0][o] = 1;
      continue;
    }
    double base = std::floor(x);
    double r = x - base;
    std::vector<double> w = n == 2 ? std::vector<double>{1 - r, r} : cubic_coefficients(r, m.cubic_a);
    // The first tap; the window stays inside the input padded by n/2 edge values.
    auto first = static_cast<int64_t>(base) - static_cast<int64_t>(n / 2 - 1);
    auto pad = static_cast<int64_t>(n / 2);
    first = std::clamp<int64_t>(first, -pad, in + pad - static_cast<int64_t>(n));
    double sum = 0;
    for (size_t k = 0; k < n; ++k) {
      int64_t src = first + static_cast<int64_t>(k);
      if (m.exclude_outside && (src < 0 || src >= in)) w[k] = 0;
      sum += w[k];
      t.index[k][o] = std::clamp<int64_t>(src, 0, in - 1);
    }
    for (size_t k = 0; k < n; ++k) t.weight[k][o] = m.exclude_outside && sum != 0 ? w[k] / sum : w[k];
  }
  return t;
}

// Resizes `x` along `axis`; `outside` collects the extrapolated positions.
at::Tensor resize_axis(const OpContext& c, const at::Tensor& x, int64_t axis, int64_t out, double scale,
                       double roi_start, double roi_end, const ResizeMode& m, at::Tensor& outside) {
  int64_t in = x.size(axis);
  if (in == out && scale == 1.0 && m.ctm != "tf_crop_and_resize") return x;
  if (in == 0) c.fail(fmt::format("cannot resize an empty dim {} to {}", axis, out));
  Taps taps = axis_taps(c, in, out, scale, roi_start, roi_end, m);
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[static_cast<size_t>(axis)] = out;
  at::Tensor y;
  if (m.mode == "nearest") {
    y = x.index_select(axis, torch::tensor(taps.index[0], at::kLong));
  } else {
    auto work = x.is_floating_point() && x.scalar_type() != at::kHalf && x.scalar_type() != at::kBFloat16
                    ? x.scalar_type()
                    : at::kFloat;
    for (size_t k = 0; k < taps.index.size(); ++k) {
      auto w = torch::tensor(taps.weight[k], at::kDouble).to(work).reshape(shape);
      auto term = x.index_select(axis, torch::tensor(taps.index[k], at::kLong)).to(work) * w;
      y = y.defined() ? y + term : term;
    }
    if (!x.is_floating_point()) y = y.round();
    y = y.to(x.scalar_type());
  }
  if (m.ctm == "tf_crop_and_resize") {
    std::vector<uint8_t> flags(taps.outside.begin(), taps.outside.end());
    auto mask = torch::tensor(flags, at::kByte).to(at::kBool).reshape(shape);
    outside = outside.defined() ? outside.logical_or(mask) : mask;
  }
  return y;
}

Ts resize(OpContext& c) {
  const auto& x = c.input(0);
  int64_t rank = x.dim();
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  bool upsample = c.node.op_type() == "Upsample";
  if (upsample || c.opset < 11) {
    // Upsample and Resize-10: (X, scales), or Upsample-7's attribute.
    if (c.has_input(1)) {
      auto s = c.input(1).to(at::kDouble).contiguous();
      scales.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
    } else {
      for (double v : c.attr_floats("scales")) scales.push_back(v);
    }
  } else {
    if (c.has_input(1) && c.input(1).numel() > 0) {
      auto r = c.input(1).to(at::kDouble).contiguous();
      roi.assign(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
    }
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
  bool legacy = c.opset < 11 || upsample;
  ResizeMode m;
  m.mode = c.attr_string("mode", "nearest");
  if (m.mode == "bilinear") m.mode = "linear";
  if (m.mode != "nearest" && m.mode != "linear" && m.mode != "cubic") c.fail("Resize mode '" + m.mode + "' is not supported");
  m.ctm = c.attr_string("coordinate_transformation_mode", legacy ? "asymmetric" : "half_pixel");
  m.nearest_mode = c.attr_string("nearest_mode", legacy ? "floor" : "round_prefer_floor");
  m.cubic_a = c.attr_float("cubic_coeff_a", -0.75);
  m.exclude_outside = c.attr_int("exclude_outside", 0) != 0;
  m.extrapolation = c.attr_float("extrapolation_value", 0.0);
  if (m.ctm == "tf_crop_and_resize" && static_cast<int64_t>(roi.size()) != 2 * rank)
    c.fail(fmt::format("tf_crop_and_resize needs 'roi' with {} values (starts, then ends), got {}", 2 * rank, roi.size()));
  at::Tensor y = x, outside;
  for (int64_t d = 0; d < rank; ++d) {
    double roi_start = roi.empty() ? 0.0 : roi[static_cast<size_t>(d)];
    double roi_end = roi.empty() ? 1.0 : roi[static_cast<size_t>(d + rank)];
    y = resize_axis(c, y, d, sizes[d], scales[d], roi_start, roi_end, m, outside);
  }
  if (outside.defined()) y = at::where(outside, at::scalar_tensor(m.extrapolation, y.options()), y);
  return {y.contiguous()};
}

}  // namespace

REGISTER_ONNX_OP({"Resize", "Upsample"}, resize);

}  // namespace mlopt::onnx_eval
