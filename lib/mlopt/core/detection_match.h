#pragma once
// A detector's outputs cannot be compared position by position: torchvision's
// per-image boxes [N, 4], scores [N] and labels [N] come sorted by score with a
// count that depends on the score cut, and any numeric change (int8 noise, a
// folded BatchNorm, another runtime's rounding) can move a detection across the
// cut or swap two near-equal ones. So two runs of a detector (quantize: int8
// against float; verify and the BatchNorm fold check: a candidate against its
// reference) are compared as sets, the way detection metrics compare with
// ground truth: detections of the same label that overlap (IoU >= 0.5, or
// nearly identical where the runs should compute the same: MatchCriteria) are
// paired, the nearest in overlap and score first. Matched rows are compared pairwise (SQNR of boxes and
// scores, rows of masks and keypoints); the match itself is scored as a
// score-weighted F1 (a lost confident detection costs more than a lost low
// one). A detection without a match whose score is at the other side's cut
// (within the largest score change of a matched pair, or of close pairs' score
// tolerance, of the lowest score that side kept) is left out: which of several
// near-equal candidates makes a detections-per-image cap is decided by the
// last bits.
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <optional>
#include <vector>

namespace mlopt {

// A model's outputs on several batches: outputs[k][b] is output k on batch b.
using OutputsByBatch = std::vector<std::vector<at::Tensor>>;

// One image's detections: indices into a model's outputs. `rows`: the other
// outputs with one row per detection (masks, keypoints, keypoint scores).
struct DetectionGroup {
  size_t boxes = 0, scores = 0, labels = 0;
  std::vector<size_t> rows;
};

// The detection groups among a model's outputs, found by shape on the first
// batch: a floating [N, 4] output followed by two [N] outputs before the next
// [*, 4] one: labels (the integer one, or, where both are floating as the
// quantize back ends hand them over, the one of whole numbers in every batch)
// and scores. Empty: not a detector.
std::vector<DetectionGroup> detection_groups(const OutputsByBatch& outputs);

struct MatchedDetections {
  OutputsByBatch reference, got;  // both sides with every group cut down to its matched rows, in pairs
  int64_t reference_detections = 0, got_detections = 0, matched = 0;
  int64_t at_cut = 0;      // unmatched on either side, left out of the agreement
  double agreement = 1.0;  // score-weighted F1 of `got`'s detections against the reference's
  std::vector<DetectionGroup> groups;  // the outputs matched
};

// When two detections (same label) may pair: the detection metrics' IoU >= 0.5
// for a model changed on purpose (int8); near-identical boxes and scores for one
// that should compute the same (an export, a folded BatchNorm), where a looser
// pair would join two different detections that each crossed the cut.
struct MatchCriteria {
  double min_iou = 0.5;
  double max_score_change = 1e300;
  // Both within `tolerance`: IoU >= 1 - tolerance, |score change| <= tolerance.
  static MatchCriteria close(double tolerance) { return {1.0 - tolerance, tolerance}; }
};

MatchedDetections match_detections(const OutputsByBatch& reference, const OutputsByBatch& got,
                                   const std::vector<DetectionGroup>& groups, const MatchCriteria& criteria = {});

// One run of each side (outputs[k] = output k), in place: where the outputs are
// a detector's, both cut down to their matched detections, in pairs (other
// outputs untouched). Returns the match (nullopt: not a detector).
std::optional<MatchedDetections> align_detections(std::vector<at::Tensor>& reference, std::vector<at::Tensor>& got,
                                                  const MatchCriteria& criteria);

}  // namespace mlopt
