#pragma once
// A detector's outputs cannot be compared position by position: torchvision's
// per-image boxes [N, 4], scores [N] and labels [N] come sorted by score with a
// count that depends on the score cut, and int8 noise moves a detection across
// the cut or swaps two near-equal ones. So a quantized detector is compared with
// its float model as sets, the way detection metrics compare with ground truth:
// each float detection (highest score first) is matched to the unused quantized
// one of the same label that overlaps it most (IoU >= 0.5). Matched rows are
// compared pairwise (SQNR of boxes and scores, rows of masks and keypoints);
// the match itself is scored as a score-weighted F1 (a lost confident detection
// costs more than a lost low one). A detection without a match whose score is
// at the other side's cut (within the largest score change of a matched pair
// of the lowest score that side kept) is left out: which of several near-equal
// candidates makes a detections-per-image cap is decided by the last bits.
#include <cstddef>
#include <vector>

#include "mlopt/quantize/quantize_support.h"

namespace mlopt::quant_support {

// One image's detections: indices into a model's outputs. `rows`: the other
// outputs with one row per detection (masks, keypoints, keypoint scores).
struct DetectionGroup {
  size_t boxes = 0, scores = 0, labels = 0;
  std::vector<size_t> rows;
};

// The detection groups among a model's outputs, found by shape on the first
// batch: a floating [N, 4] output followed by two [N] outputs before the next
// [*, 4] one, labels (whole numbers in every batch) and scores (not). Empty:
// not a detector.
std::vector<DetectionGroup> detection_groups(const Outputs& outputs);

struct MatchedDetections {
  Outputs reference, got;  // both sides with every group cut down to its matched rows, in pairs
  int64_t reference_detections = 0, got_detections = 0, matched = 0;
  int64_t at_cut = 0;      // unmatched on either side, left out of the agreement
  double agreement = 1.0;  // score-weighted F1 of `got`'s detections against the reference's
};

MatchedDetections match_detections(const Outputs& reference, const Outputs& got,
                                   const std::vector<DetectionGroup>& groups, double min_iou = 0.5);

}  // namespace mlopt::quant_support
