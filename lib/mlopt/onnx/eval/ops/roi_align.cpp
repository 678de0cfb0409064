// RoiAlign, average mode: each output bin is the mean of bilinear samples on
// a regular grid inside it (sampling_ratio per side, or ceil(roi/bins)).
// Opset 16's half_pixel shifts the box by half a pixel; opset 10's
// output_half_pixel does not, and makes boxes at least one pixel wide.
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

// A plane's value at (y, x), bilinear, zero outside [-1, size].
double bilinear(const double* plane, int64_t h, int64_t w, double y, double x) {
  if (y < -1.0 || y > static_cast<double>(h) || x < -1.0 || x > static_cast<double>(w)) return 0.0;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  auto y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x);
  int64_t y1 = y0 + 1, x1 = x0 + 1;
  if (y0 >= h - 1) y0 = y1 = h - 1, y = static_cast<double>(y0);
  if (x0 >= w - 1) x0 = x1 = w - 1, x = static_cast<double>(x0);
  double ly = y - static_cast<double>(y0), lx = x - static_cast<double>(x0), hy = 1 - ly, hx = 1 - lx;
  return hy * hx * plane[y0 * w + x0] + hy * lx * plane[y0 * w + x1] + ly * hx * plane[y1 * w + x0] +
         ly * lx * plane[y1 * w + x1];
}

Ts roi_align(OpContext& c) {
  auto x = c.input(0).to(at::kDouble).contiguous();
  auto rois = c.input(1).to(at::kDouble).contiguous();
  auto batch = to_int_vector(c.input(2));
  if (x.dim() != 4 || rois.dim() != 2 || rois.size(1) != 4 || static_cast<int64_t>(batch.size()) != rois.size(0))
    c.fail("expects X [N, C, H, W], rois [R, 4] and batch_indices [R]");
  if (c.attr_string("mode", "avg") != "avg") c.fail("RoiAlign mode '" + c.attr_string("mode", "avg") + "' is not supported (avg only)");
  bool half_pixel = c.opset >= 16 && c.attr_string("coordinate_transformation_mode", "half_pixel") == "half_pixel";
  int64_t out_h = c.attr_int("output_height", 1), out_w = c.attr_int("output_width", 1);
  int64_t ratio = c.attr_int("sampling_ratio", 0);
  double scale = c.attr_float("spatial_scale", 1.0), offset = half_pixel ? 0.5 : 0.0;
  int64_t channels = x.size(1), h = x.size(2), w = x.size(3), count = rois.size(0);
  check_value_shape(c, {count, channels, out_h, out_w}, "the RoiAlign output");
  auto y = at::zeros({count, channels, out_h, out_w}, at::kDouble);
  double* out = y.data_ptr<double>();
  for (int64_t r = 0; r < count; ++r) {
    int64_t b = batch[static_cast<size_t>(r)];
    if (b < 0 || b >= x.size(0)) c.fail(fmt::format("batch index {} is outside [0, {})", b, x.size(0)));
    const double* box = rois[r].data_ptr<double>();
    double x1 = box[0] * scale - offset, y1 = box[1] * scale - offset;
    double roi_w = box[2] * scale - offset - x1, roi_h = box[3] * scale - offset - y1;
    if (!half_pixel) roi_w = std::max(roi_w, 1.0), roi_h = std::max(roi_h, 1.0);
    double bin_h = roi_h / static_cast<double>(out_h), bin_w = roi_w / static_cast<double>(out_w);
    double grid_hd = ratio > 0 ? static_cast<double>(ratio) : std::ceil(roi_h / static_cast<double>(out_h));
    double grid_wd = ratio > 0 ? static_cast<double>(ratio) : std::ceil(roi_w / static_cast<double>(out_w));
    // A huge or non-finite box would otherwise sample for ever.
    check_value_elements(c, static_cast<double>(channels * out_h * out_w) * std::max(grid_hd, 1.0) * std::max(grid_wd, 1.0),
                         "the RoiAlign samples of one box");
    auto grid_h = static_cast<int64_t>(std::max(grid_hd, 0.0)), grid_w = static_cast<int64_t>(std::max(grid_wd, 0.0));
    double samples = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
    for (int64_t ch = 0; ch < channels; ++ch) {
      const double* plane = x[b][ch].data_ptr<double>();
      for (int64_t ph = 0; ph < out_h; ++ph)
        for (int64_t pw = 0; pw < out_w; ++pw) {
          double sum = 0;
          for (int64_t iy = 0; iy < grid_h; ++iy) {
            double sy = y1 + static_cast<double>(ph) * bin_h + (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(grid_h);
            for (int64_t ix = 0; ix < grid_w; ++ix) {
              double sx = x1 + static_cast<double>(pw) * bin_w + (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(grid_w);
              sum += bilinear(plane, h, w, sy, sx);
            }
          }
          out[((r * channels + ch) * out_h + ph) * out_w + pw] = sum / samples;
        }
    }
  }
  return {y.to(c.input(0).scalar_type())};
}

}  // namespace

REGISTER_ONNX_OP({"RoiAlign"}, roi_align);

}  // namespace mlopt::onnx_eval
