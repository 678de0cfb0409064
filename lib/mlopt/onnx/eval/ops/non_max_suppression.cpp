// NonMaxSuppression: per batch and class, boxes by descending score, each kept
// unless it overlaps (IoU above the threshold) one kept before it. The kept
// boxes are indexed by their left edge, so a candidate is compared only with
// those whose x-range meets its own: exporters pass every class's boxes to one
// NMS call, shifted apart per class (torchvision's batched_nms: 89k boxes from
// Mask R-CNN's box head), where comparing with every kept box is quadratic.
#include <algorithm>
#include <cmath>
#include <map>
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
  // The candidates of each batch and class: over the score threshold, by descending score.
  std::vector<std::vector<int64_t>> orders(static_cast<size_t>(batches * classes));
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t k = 0; k < classes; ++k) {
      const double* sp = scores[b][k].data_ptr<double>();
      auto& order = orders[static_cast<size_t>(b * classes + k)];
      for (int64_t i = 0; i < count; ++i)
        if (!has_score_threshold || sp[i] > score_threshold) order.push_back(i);
      std::stable_sort(order.begin(), order.end(), [sp](int64_t i, int64_t j) { return sp[i] > sp[j]; });
    }
  // The IoU computations are counted as they run and bounded like a value's elements: a graph built to make
  // NMS quadratic fails naming the node instead of running for hours.
  const double budget = static_cast<double>(max_value_elements());
  double comparisons = 0;
  std::vector<int64_t> selected;
  for (int64_t b = 0; b < batches; ++b) {
    const double* bp = boxes[b].data_ptr<double>();
    std::vector<Box> all;
    for (int64_t i = 0; i < count; ++i) all.push_back(corners(bp + 4 * i, center_point));
    for (int64_t k = 0; k < classes; ++k) {
      std::multimap<double, int64_t> kept;  // finite boxes, by left edge (a NaN box overlaps nothing)
      int64_t kept_count = 0;
      double widest = 0;
      for (int64_t i : orders[static_cast<size_t>(b * classes + k)]) {
        if (kept_count >= max_out) break;
        const Box& box = all[i];
        const bool finite = std::isfinite(box.x1) && std::isfinite(box.x2) && std::isfinite(box.y1) &&
                            std::isfinite(box.y2);
        // A negative threshold suppresses everything after the first box, overlapping or not.
        bool overlaps = iou_threshold < 0 && kept_count > 0;
        // Kept boxes whose x-range can meet this one's: left edge in [x1 - widest, x2].
        if (finite && !overlaps)
          for (auto it = kept.lower_bound(box.x1 - widest); it != kept.end() && it->first <= box.x2; ++it) {
            comparisons += 1;
            if (iou(box, all[it->second]) > iou_threshold) {
              overlaps = true;
              break;
            }
          }
        if (comparisons > budget) check_value_elements(c, comparisons, "the NonMaxSuppression box comparisons");
        if (overlaps) continue;
        if (finite) {
          kept.emplace(box.x1, i);
          widest = std::max(widest, box.x2 - box.x1);
        }
        ++kept_count;
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
