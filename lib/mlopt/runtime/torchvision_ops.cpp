// The torchvision operators that torchvision's scripted detection models call
// (torch.ops.torchvision.nms and roi_align), so that LibTorch can load and run
// them: torchvision's own C++ library is not part of a native mlopt install.
// Schemas are torchvision 0.14's; the CPU kernels follow its definitions
// (forward only), computed in the input's float type as torchvision does.
#include <torch/library.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace mlopt::runtime {
namespace {

// Boxes [N, 4] (x1, y1, x2, y2), scores [N]: indices of the boxes kept, by
// descending score (ties in index order); a box is dropped when its IoU with
// a box kept before it is above iou_threshold.
template <class T>
at::Tensor nms_impl(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold) {
  const int64_t n = dets.size(0);
  auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const int64_t* ord = order.data_ptr<int64_t>();
  auto boxes = dets.contiguous();
  const T* b = boxes.data_ptr<T>();
  std::vector<T> area(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) area[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
  std::vector<char> dropped(static_cast<size_t>(n), 0);
  std::vector<int64_t> kept;
  for (int64_t a = 0; a < n; ++a) {
    int64_t i = ord[a];
    if (dropped[i]) continue;
    kept.push_back(i);
    const T* bi = b + 4 * i;
    for (int64_t c = a + 1; c < n; ++c) {
      int64_t j = ord[c];
      if (dropped[j]) continue;
      const T* bj = b + 4 * j;
      T w = std::max(static_cast<T>(0), std::min(bi[2], bj[2]) - std::max(bi[0], bj[0]));
      T h = std::max(static_cast<T>(0), std::min(bi[3], bj[3]) - std::max(bi[1], bj[1]));
      T inter = w * h;
      T iou = inter / (area[i] + area[j] - inter);
      if (iou > iou_threshold) dropped[j] = 1;
    }
  }
  return torch::tensor(kept, at::kLong);
}

at::Tensor nms(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold) {
  TORCH_CHECK(dets.dim() == 2 && dets.size(1) == 4, "torchvision::nms: boxes must be [N, 4], got ", dets.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == dets.size(0), "torchvision::nms: scores must be [N] with N = ",
              dets.size(0), " (the boxes), got ", scores.sizes());
  TORCH_CHECK(dets.scalar_type() == scores.scalar_type(), "torchvision::nms: boxes and scores must have one dtype, got ",
              dets.scalar_type(), " and ", scores.scalar_type());
  TORCH_CHECK(dets.device().is_cpu(), "torchvision::nms: only CPU tensors are supported");
  if (dets.size(0) == 0) return at::empty({0}, dets.options().dtype(at::kLong));
  at::Tensor out;
  AT_DISPATCH_FLOATING_TYPES(dets.scalar_type(), "torchvision::nms", [&] { out = nms_impl<scalar_t>(dets, scores, iou_threshold); });
  return out;
}

// A plane's value at (y, x), bilinear; zero beyond one pixel outside it.
template <class T>
T bilinear(const T* plane, int64_t height, int64_t width, T y, T x) {
  if (y < -1.0 || y > height || x < -1.0 || x > width) return 0;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  auto y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x);
  int64_t y_high = y_low + 1, x_high = x_low + 1;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<T>(y_low);
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<T>(x_low);
  }
  T ly = y - static_cast<T>(y_low), lx = x - static_cast<T>(x_low);
  T hy = 1 - ly, hx = 1 - lx;
  return hy * hx * plane[y_low * width + x_low] + hy * lx * plane[y_low * width + x_high] +
         ly * hx * plane[y_high * width + x_low] + ly * lx * plane[y_high * width + x_high];
}

// Input [N, C, H, W], rois [K, 5] (batch index, x1, y1, x2, y2): [K, C, ph, pw],
// each bin the mean of a grid of bilinear samples (sampling_ratio per side,
// or ceil(roi size / bins) when it is <= 0). aligned shifts the box by -0.5
// pixel; without it a box is at least one pixel wide and high.
template <class T>
void roi_align_impl(const at::Tensor& input, const at::Tensor& rois, double spatial_scale, int64_t pooled_h,
                    int64_t pooled_w, int64_t sampling_ratio, bool aligned, at::Tensor& output) {
  const int64_t channels = input.size(1), height = input.size(2), width = input.size(3), count = rois.size(0);
  const T* in = input.data_ptr<T>();
  const T* r = rois.data_ptr<T>();
  T* out = output.data_ptr<T>();
  const T offset = aligned ? static_cast<T>(0.5) : static_cast<T>(0.0);
  const T scale = static_cast<T>(spatial_scale);
  for (int64_t k = 0; k < count; ++k) {
    const T* roi = r + 5 * k;
    auto batch = static_cast<int64_t>(roi[0]);
    TORCH_CHECK(batch >= 0 && batch < input.size(0), "torchvision::roi_align: roi ", k, " has batch index ", batch,
                ", outside [0, ", input.size(0), ")");
    T x1 = roi[1] * scale - offset, y1 = roi[2] * scale - offset;
    T x2 = roi[3] * scale - offset, y2 = roi[4] * scale - offset;
    T roi_w = x2 - x1, roi_h = y2 - y1;
    if (!aligned) {
      roi_w = std::max(roi_w, static_cast<T>(1));
      roi_h = std::max(roi_h, static_cast<T>(1));
    }
    T bin_h = roi_h / static_cast<T>(pooled_h), bin_w = roi_w / static_cast<T>(pooled_w);
    int64_t grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_h / pooled_h));
    int64_t grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_w / pooled_w));
    const T samples = static_cast<T>(std::max<int64_t>(grid_h * grid_w, 1));
    for (int64_t c = 0; c < channels; ++c) {
      const T* plane = in + (batch * channels + c) * height * width;
      T* dst = out + (k * channels + c) * pooled_h * pooled_w;
      for (int64_t ph = 0; ph < pooled_h; ++ph)
        for (int64_t pw = 0; pw < pooled_w; ++pw) {
          T sum = 0;
          for (int64_t iy = 0; iy < grid_h; ++iy) {
            T y = y1 + static_cast<T>(ph) * bin_h + (static_cast<T>(iy) + static_cast<T>(0.5)) * bin_h / static_cast<T>(grid_h);
            for (int64_t ix = 0; ix < grid_w; ++ix) {
              T x = x1 + static_cast<T>(pw) * bin_w + (static_cast<T>(ix) + static_cast<T>(0.5)) * bin_w / static_cast<T>(grid_w);
              sum += bilinear(plane, height, width, y, x);
            }
          }
          dst[ph * pooled_w + pw] = sum / samples;
        }
    }
  }
}

at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, double spatial_scale, int64_t pooled_height,
                     int64_t pooled_width, int64_t sampling_ratio, bool aligned) {
  TORCH_CHECK(input.dim() == 4, "torchvision::roi_align: input must be [N, C, H, W], got ", input.sizes());
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, "torchvision::roi_align: rois must be [K, 5], got ", rois.sizes());
  TORCH_CHECK(input.scalar_type() == rois.scalar_type(), "torchvision::roi_align: input and rois must have one dtype, got ",
              input.scalar_type(), " and ", rois.scalar_type());
  TORCH_CHECK(pooled_height > 0 && pooled_width > 0, "torchvision::roi_align: the output size must be positive, got ",
              pooled_height, "x", pooled_width);
  TORCH_CHECK(input.device().is_cpu(), "torchvision::roi_align: only CPU tensors are supported");
  auto output = at::zeros({rois.size(0), input.size(1), pooled_height, pooled_width}, input.options());
  if (output.numel() == 0) return output;
  auto x = input.contiguous();
  auto r = rois.contiguous();
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "torchvision::roi_align", [&] {
    roi_align_impl<scalar_t>(x, r, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned, output);
  });
  return output;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(torchvision, m) {
  m.def("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor");
  m.def("roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
        "int sampling_ratio, bool aligned) -> Tensor");
}

TORCH_LIBRARY_IMPL(torchvision, CPU, m) {
  m.impl("nms", nms);
  m.impl("roi_align", roi_align);
}

}  // namespace mlopt::runtime
