// NonMaxSuppression: per batch and class, boxes by descending score, each kept
// unless it overlaps (IoU above the threshold) one kept before it.
#include <numeric>

#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

struct Box {
  double y1, x1, y2, x2;
};

Box corners(const double* b, bool center_point) {
  if (center_point) return {b[1] - b[3] / 2, b[0] - b[2] / 2, b[1] + b[3] / 2, b[0] + b[2] / 2};
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

double iou(const Box& a, const Box& b) {
  double h = std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  double w = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  double inter = h * w;
  double uni = (a.y2 - a.y1) * (a.x2 - a.x1) + (b.y2 - b.y1) * (b.x2 - b.x1) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

Ts non_max_suppression(OpContext& c) {
  auto boxes = c.input(0).to(at::kDouble).contiguous();
  auto scores = c.input(1).to(at::kDouble).contiguous();
  if (boxes.dim() != 3 || boxes.size(2) != 4 || scores.dim() != 3 || scores.size(0) != boxes.size(0) ||
      scores.size(2) != boxes.size(1))
    c.fail("boxes must be [batches, boxes, 4] and scores [batches, classes, boxes]");
  int64_t max_out = c.has_input(2) && c.input(2).numel() ? c.input(2).reshape({-1})[0].item<int64_t>() : 0;
  double iou_threshold = c.has_input(3) && c.input(3).numel() ? c.input(3).reshape({-1})[0].item<double>() : 0.0;
  bool has_score_threshold = c.has_input(4) && c.input(4).numel();
  double score_threshold = has_score_threshold ? c.input(4).reshape({-1})[0].item<double>() : 0.0;
  bool center_point = c.attr_int("center_point_box", 0) != 0;
  int64_t batches = boxes.size(0), count = boxes.size(1), classes = scores.size(1);
  // Each box is compared with at most max_out kept ones: bound the work, not just the output.
  check_value_elements(c,
                       static_cast<double>(batches) * static_cast<double>(classes) * static_cast<double>(count) *
                           static_cast<double>(std::max<int64_t>(1, std::min(max_out, count))),
                       "the NonMaxSuppression box comparisons");
  std::vector<int64_t> selected;
  for (int64_t b = 0; b < batches; ++b) {
    const double* bp = boxes[b].data_ptr<double>();
    std::vector<Box> all;
    for (int64_t i = 0; i < count; ++i) all.push_back(corners(bp + 4 * i, center_point));
    for (int64_t k = 0; k < classes; ++k) {
      const double* sp = scores[b][k].data_ptr<double>();
      std::vector<int64_t> order;
      for (int64_t i = 0; i < count; ++i)
        if (!has_score_threshold || sp[i] > score_threshold) order.push_back(i);
      std::stable_sort(order.begin(), order.end(), [sp](int64_t i, int64_t j) { return sp[i] > sp[j]; });
      std::vector<int64_t> kept;
      for (int64_t i : order) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool overlaps = std::any_of(kept.begin(), kept.end(), [&](int64_t j) { return iou(all[i], all[j]) > iou_threshold; });
        if (overlaps) continue;
        kept.push_back(i);
        selected.insert(selected.end(), {b, k, i});
      }
    }
  }
  auto n = static_cast<int64_t>(selected.size() / 3);
  return {torch::tensor(selected, at::kLong).reshape({n, 3})};
}

}  // namespace

REGISTER_ONNX_OP({"NonMaxSuppression"}, non_max_suppression);

}  // namespace mlopt::onnx_eval
