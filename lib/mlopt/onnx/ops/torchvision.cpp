// torchvision's detection operators (registered for LibTorch by
// runtime/torchvision_ops.cpp): nms -> NonMaxSuppression, roi_align -> RoiAlign.
#include <limits>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

// A float argument known at export time (thresholds and scales are module
// constants in torchvision's models).
double float_arg(Context& ctx, size_t i, const char* what) {
  if (!ctx.is_constant(i)) ctx.fail_op(std::string("the ") + what + " must be known at export time");
  return ctx.to_double(i);
}

// nms(dets [N, 4], scores [N], iou_threshold): NonMaxSuppression sees one batch
// and one class (boxes [1, N, 4], scores [1, 1, N]) with no cap on the boxes
// kept; its selected indices [M, 3] are (batch, class, box): column 2 is
// torchvision's result, already by descending score. IoU does not depend on
// the coordinate order, so (x1, y1, x2, y2) boxes go in unchanged.
void convert_nms(Context& ctx) {
  if (ctx.opset() < 10) ctx.fail_op("NonMaxSuppression needs opset 10 or later");
  auto& b = ctx.b();
  std::string boxes = unsqueeze(ctx, ctx.tensor_as(0, at::kFloat), {0});
  std::string scores = unsqueeze(ctx, ctx.tensor_as(1, at::kFloat), {0, 1});
  std::string max_out = b.constant(torch::tensor({std::numeric_limits<int64_t>::max()}, at::kLong), "max_boxes");
  std::string iou = b.constant(torch::tensor({static_cast<float>(float_arg(ctx, 2, "IoU threshold"))}, at::kFloat), "iou");
  std::string selected = b.add1("NonMaxSuppression", {boxes, scores, max_out, iou}, {}, "nms");
  std::string column = b.constant(torch::tensor(int64_t{2}, at::kLong), "box_column");
  ctx.set_tensor(0, b.add1("Gather", {selected, column}, {{"axis", int64_t{1}}}, "kept"));
}

// roi_align(input, rois [K, 5] (batch, x1, y1, x2, y2), spatial_scale,
// pooled_height, pooled_width, sampling_ratio, aligned) -> RoiAlign (avg) with
// the boxes and batch indices split from rois. Opset 16 says how coordinates
// map: half_pixel is aligned=True, output_half_pixel aligned=False (boxes at
// least one pixel). Before 16 RoiAlign is always output_half_pixel; aligned
// boxes are shifted by -0.5 pixel there, as PyTorch's exporter does, which
// matches except for boxes under one pixel (RoiAlign then widens them).
void convert_roi_align(Context& ctx) {
  if (ctx.opset() < 10) ctx.fail_op("RoiAlign needs opset 10 or later");
  auto& b = ctx.b();
  double scale = float_arg(ctx, 2, "spatial scale");
  for (size_t i = 3; i <= 6; ++i)
    if (!ctx.is_constant(i)) ctx.fail_op("the output size, sampling ratio and aligned flag must be known at export time");
  int64_t pooled_h = ctx.to_int(3), pooled_w = ctx.to_int(4), ratio = ctx.to_int(5);
  bool aligned = ctx.to_bool(6);
  auto type = ctx.dtype(0);
  std::string input = ctx.tensor_as(0, at::kFloat);
  std::string rois = ctx.tensor_as(1, at::kFloat);
  std::string batch = b.add1("Gather", {rois, b.constant(torch::tensor(int64_t{0}, at::kLong), "batch_column")},
                             {{"axis", int64_t{1}}}, "roi_batch");
  batch = cast(ctx, batch, at::kLong);
  std::string boxes = b.add1("Slice", {rois, b.ints({1}), b.ints({5}), b.ints({1})}, {}, "roi_boxes");
  std::string y;
  if (ctx.opset() >= 16) {
    y = b.add1("RoiAlign", {input, boxes, batch},
               {{"coordinate_transformation_mode", std::string(aligned ? "half_pixel" : "output_half_pixel")},
                {"mode", std::string("avg")},
                {"output_height", pooled_h},
                {"output_width", pooled_w},
                {"sampling_ratio", std::max<int64_t>(ratio, 0)},
                {"spatial_scale", static_cast<float>(scale)}},
               "roi_align");
  } else {
    if (aligned) {
      std::string shift = b.constant(torch::tensor({static_cast<float>(0.5 / scale)}, at::kFloat), "half_pixel");
      boxes = b.add1("Sub", {boxes, shift});
    }
    y = b.add1("RoiAlign", {input, boxes, batch},
               {{"mode", std::string("avg")},
                {"output_height", pooled_h},
                {"output_width", pooled_w},
                {"sampling_ratio", std::max<int64_t>(ratio, 0)},
                {"spatial_scale", static_cast<float>(scale)}},
               "roi_align");
  }
  if (type != at::kFloat) y = cast(ctx, y, type);
  ctx.set_tensor(0, y);
}

}  // namespace

REGISTER_CONVERTER({"torchvision::nms"}, convert_nms);
REGISTER_CONVERTER({"torchvision::roi_align"}, convert_roi_align);

}  // namespace mlopt::onnx_export
