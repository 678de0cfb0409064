#include "mlopt/core/detection_match.h"

#include <algorithm>
#include <cmath>


namespace mlopt {

namespace {

bool is_boxes(const at::Tensor& t) { return t.dim() == 2 && t.size(1) == 4 && t.is_floating_point(); }

bool integral_everywhere(const std::vector<at::Tensor>& batches) {
  for (const auto& t : batches)
    if (t.is_floating_point() && !t.eq(t.round()).all().item<bool>()) return false;
  return true;
}

// [N, M] intersection over union; a degenerate pair (no area) overlaps only when equal.
at::Tensor iou(const at::Tensor& a, const at::Tensor& b) {
  auto a4 = a.to(at::kDouble).unsqueeze(1), b4 = b.to(at::kDouble).unsqueeze(0);
  using at::indexing::Slice;
  auto col = [](const at::Tensor& t, int64_t c) { return t.index({"...", c}); };
  auto w = (at::minimum(col(a4, 2), col(b4, 2)) - at::maximum(col(a4, 0), col(b4, 0))).clamp_min(0);
  auto h = (at::minimum(col(a4, 3), col(b4, 3)) - at::maximum(col(a4, 1), col(b4, 1))).clamp_min(0);
  auto area = [&](const at::Tensor& t) { return (col(t, 2) - col(t, 0)).clamp_min(0) * (col(t, 3) - col(t, 1)).clamp_min(0); };
  auto inter = w * h;
  auto uni = area(a4) + area(b4) - inter;
  auto same = (a4 - b4).abs().amax(-1).eq(0).to(at::kDouble);
  return at::where(uni > 0, inter / uni.clamp_min(1e-300), same);
}

// One image's match: the pairs, and the scores on both sides (by row).
struct ImageMatch {
  std::vector<int64_t> reference_rows, got_rows;
  std::vector<double> reference_scores, got_scores;
};

// Pairs of the same label that overlap by at least `c.min_iou` and whose
// scores differ by at most `c.max_score_change`, the nearest pairs first
// (distance: the larger of 1 - IoU and the score change; boxes clipped to the
// image border overlap several candidates fully, and only the score tells them
// apart), each detection in one pair at most.
ImageMatch match_one_image(const at::Tensor& ref_boxes, const at::Tensor& ref_scores, const at::Tensor& ref_labels,
                           const at::Tensor& got_boxes, const at::Tensor& got_scores, const at::Tensor& got_labels,
                           const MatchCriteria& c) {
  ImageMatch p;
  auto scores_of = [](const at::Tensor& t) {
    auto d = t.to(at::kDouble).contiguous();
    return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  };
  p.reference_scores = scores_of(ref_scores);
  p.got_scores = scores_of(got_scores);
  const int64_t n = ref_boxes.size(0), m = got_boxes.size(0);
  if (n == 0 || m == 0) return p;
  auto overlap = iou(ref_boxes, got_boxes).contiguous();
  auto rl = ref_labels.to(at::kLong).contiguous(), gl = got_labels.to(at::kLong).contiguous();
  auto o = overlap.accessor<double, 2>();
  auto rla = rl.accessor<int64_t, 1>(), gla = gl.accessor<int64_t, 1>();
  struct Candidate {
    double distance;
    int64_t i, j;
  };
  std::vector<Candidate> candidates;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      const double change = std::abs(p.got_scores[j] - p.reference_scores[i]);
      if (gla[j] != rla[i] || o[i][j] < c.min_iou || change > c.max_score_change) continue;
      candidates.push_back({std::max(1.0 - o[i][j], change), i, j});
    }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
  std::vector<bool> ref_used(n, false), got_used(m, false);
  for (const auto& k : candidates) {
    if (ref_used[k.i] || got_used[k.j]) continue;
    ref_used[k.i] = got_used[k.j] = true;
    p.reference_rows.push_back(k.i);
    p.got_rows.push_back(k.j);
  }
  return p;
}

// Score-weighted recall (or precision, sides swapped): the matched share of
// the scores of `mine`, leaving out my unmatched detections at the other
// side's cut (within `noise` of the lowest score it kept: the cap or the score
// threshold could have dropped them, whichever model ran).
struct Weighted {
  double matched = 0, total = 0;
  int64_t at_cut = 0;
};
void weigh(const std::vector<double>& mine, const std::vector<int64_t>& matched_rows,
           const std::vector<double>& theirs, double noise, Weighted& w) {
  std::vector<bool> matched(mine.size(), false);
  for (auto r : matched_rows) matched[r] = true;
  const double cut = theirs.empty() ? -1e300 : *std::min_element(theirs.begin(), theirs.end()) + noise;
  for (size_t i = 0; i < mine.size(); ++i) {
    const double s = std::max(mine[i], 0.0);
    if (matched[i]) {
      w.matched += s;
      w.total += s;
    } else if (mine[i] <= cut) {
      ++w.at_cut;
    } else {
      w.total += s;
    }
  }
}

at::Tensor take_rows(const at::Tensor& t, const std::vector<int64_t>& rows) {
  return t.index_select(0, at::tensor(rows, at::kLong));
}

}  // namespace

std::vector<DetectionGroup> detection_groups(const OutputsByBatch& outputs) {
  std::vector<at::Tensor> first;
  for (const auto& o : outputs) {
    if (o.empty()) return {};
    first.push_back(o.front());
  }
  std::vector<DetectionGroup> groups;
  for (size_t k = 0; k < first.size(); ++k) {
    if (!is_boxes(first[k])) continue;
    const int64_t n = first[k].size(0);
    std::vector<size_t> per_detection;  // [N] outputs: scores and labels
    DetectionGroup g;
    g.boxes = k;
    size_t end = k + 1;
    for (; end < first.size() && !is_boxes(first[end]); ++end) {
      if (first[end].dim() == 1 && first[end].size(0) == n && per_detection.size() < 2) per_detection.push_back(end);
      else if (first[end].dim() >= 1 && first[end].size(0) == n) g.rows.push_back(end);
    }
    k = end - 1;
    if (per_detection.size() < 2) continue;
    // Labels: the integer output; where both are floating (the quantize back
    // ends hand over float32), the one of whole numbers in every batch.
    bool first_whole = !first[per_detection[0]].is_floating_point();
    bool second_whole = !first[per_detection[1]].is_floating_point();
    if (first_whole == second_whole) {
      first_whole = integral_everywhere(outputs[per_detection[0]]);
      second_whole = integral_everywhere(outputs[per_detection[1]]);
    }
    if (first_whole == second_whole) continue;
    g.labels = first_whole ? per_detection[0] : per_detection[1];
    g.scores = first_whole ? per_detection[1] : per_detection[0];
    groups.push_back(g);
  }
  return groups;
}

MatchedDetections match_detections(const OutputsByBatch& reference, const OutputsByBatch& got,
                                   const std::vector<DetectionGroup>& groups, const MatchCriteria& criteria) {
  MatchedDetections m{reference, got};
  m.groups = groups;
  std::vector<ImageMatch> images;
  // How far above the other side's lowest kept score a detection still counts as at the cut: the largest
  // score change of a matched pair, or where pairs must be close, the change a pair may have.
  double noise = criteria.max_score_change < 1.0 ? criteria.max_score_change : 0.0;
  for (const auto& g : groups) {
    if (g.boxes >= got.size() || g.scores >= got.size() || g.labels >= got.size()) continue;
    for (size_t b = 0; b < reference[g.boxes].size() && b < got[g.boxes].size(); ++b) {
      auto at = [&](const OutputsByBatch& o, size_t k) { return o[k][b]; };
      const auto &rb = at(reference, g.boxes), &gb = at(got, g.boxes);
      if (!is_boxes(gb) || got[g.scores][b].dim() != 1 || got[g.labels][b].dim() != 1) continue;
      auto match = match_one_image(rb, at(reference, g.scores), at(reference, g.labels), gb, at(got, g.scores),
                                   at(got, g.labels), criteria);
      m.reference_detections += rb.size(0);
      m.got_detections += gb.size(0);
      m.matched += static_cast<int64_t>(match.reference_rows.size());
      for (size_t p = 0; p < match.reference_rows.size(); ++p)
        noise = std::max(noise, std::abs(match.got_scores[match.got_rows[p]] -
                                         match.reference_scores[match.reference_rows[p]]));
      std::vector<size_t> cut{g.boxes, g.scores, g.labels};
      cut.insert(cut.end(), g.rows.begin(), g.rows.end());
      for (size_t k : cut) {
        if (k >= got.size() || b >= got[k].size()) continue;
        if (reference[k][b].dim() == 0 || got[k][b].dim() == 0 || reference[k][b].size(0) != rb.size(0) ||
            got[k][b].size(0) != gb.size(0))
          continue;
        m.reference[k][b] = take_rows(reference[k][b], match.reference_rows);
        m.got[k][b] = take_rows(got[k][b], match.got_rows);
      }
      images.push_back(std::move(match));
    }
  }
  Weighted recall, precision;
  for (const auto& image : images) {
    weigh(image.reference_scores, image.reference_rows, image.got_scores, noise, recall);
    weigh(image.got_scores, image.got_rows, image.reference_scores, noise, precision);
  }
  m.at_cut = recall.at_cut + precision.at_cut;
  const double r = recall.total > 0 ? recall.matched / recall.total : 1.0;
  const double p = precision.total > 0 ? precision.matched / precision.total : 1.0;
  m.agreement = r + p > 0 ? 2 * r * p / (r + p) : 0.0;
  return m;
}

std::optional<MatchedDetections> align_detections(std::vector<at::Tensor>& reference, std::vector<at::Tensor>& got,
                                                  const MatchCriteria& criteria) {
  OutputsByBatch want, have;
  for (const auto& t : reference) want.push_back({t});
  for (const auto& t : got) have.push_back({t});
  auto groups = detection_groups(want);
  if (groups.empty() || reference.size() != got.size()) return std::nullopt;
  auto m = match_detections(want, have, groups, criteria);
  for (size_t k = 0; k < reference.size(); ++k) reference[k] = m.reference[k][0], got[k] = m.got[k][0];
  return m;
}

}  // namespace mlopt
