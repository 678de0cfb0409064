// Two runs of a detector are compared as sets of detections (detection_match.h):
// found by the outputs' shapes, matched by label and IoU, scored as a
// score-weighted F1 that leaves out detections at the cut.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "mlopt/core/detection_match.h"

using mlopt::detection_groups;
using mlopt::match_detections;
using Outputs = mlopt::OutputsByBatch;

namespace {

// One image's detections as the quantize back ends hand them over: float32
// boxes [N, 4], scores [N] (highest first), labels [N] (whole numbers).
struct Image {
  at::Tensor boxes, scores, labels;
};

Image image(int64_t n, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto corner = at::rand({n, 2}, gen) * 200;
  auto size = at::rand({n, 2}, gen) * 50 + 10;
  return {at::cat({corner, corner + size}, 1), std::get<0>(at::sort(at::rand({n}, gen), 0, true)),
          at::randint(1, 5, {n}, gen).to(at::kFloat)};
}

Outputs outputs_of(const std::vector<Image>& batches, bool labels_first = false) {
  Outputs o(3);
  for (const auto& im : batches) {
    o[0].push_back(im.boxes);
    o[labels_first ? 1 : 2].push_back(im.labels);
    o[labels_first ? 2 : 1].push_back(im.scores);
  }
  return o;
}

Image rows(const Image& im, const at::Tensor& index) {
  return {im.boxes.index_select(0, index), im.scores.index_select(0, index), im.labels.index_select(0, index)};
}

}  // namespace

TEST_CASE("detection_match: boxes, scores and labels are found by shape and values, in either order",
          "[quantize][detection]") {
  auto a = image(12, 1), b = image(7, 2);
  for (bool labels_first : {false, true}) {
    auto groups = detection_groups(outputs_of({a, b}, labels_first));
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].boxes == 0);
    CHECK(groups[0].labels == (labels_first ? 1u : 2u));
    CHECK(groups[0].scores == (labels_first ? 2u : 1u));
  }
  // A mask output (one row per detection) rides along with its group.
  auto o = outputs_of({a});
  o.push_back({at::rand({12, 1, 8, 8})});
  auto groups = detection_groups(o);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].rows == std::vector<size_t>{3});
  // A classifier's logits, or a [N, 4] output without per-row scores and labels, is no detector.
  CHECK(detection_groups({{at::rand({8, 10})}}).empty());
  CHECK(detection_groups({{at::rand({8, 4})}, {at::rand({8})}}).empty());
}

TEST_CASE("detection_match: the same detections in another order with small noise agree fully, paired row by row",
          "[quantize][detection]") {
  auto want = image(20, 3);
  auto perm = at::randperm(20, at::detail::createCPUGenerator(4));
  auto got = rows(want, perm);
  got.boxes = got.boxes + 0.01 * at::randn({20, 4});
  got.scores = got.scores + 1e-4;
  auto m = match_detections(outputs_of({want}), outputs_of({got}), detection_groups(outputs_of({want})));
  CHECK(m.matched == 20);
  CHECK(m.agreement == Approx(1.0));
  CHECK(m.at_cut == 0);
  // Pairs line up: the matched boxes differ by the noise only.
  CHECK((m.reference[0][0] - m.got[0][0]).abs().max().item<double>() < 0.1);
  CHECK(at::equal(m.reference[2][0], m.got[2][0]));
}

TEST_CASE("detection_match: a lost confident detection costs agreement, one lost at the cut does not",
          "[quantize][detection]") {
  auto want = image(10, 5);
  auto groups = detection_groups(outputs_of({want}));
  SECTION("the most confident detection missing") {
    auto got = rows(want, at::arange(1, 10));
    auto m = match_detections(outputs_of({want}), outputs_of({got}), groups);
    CHECK(m.matched == 9);
    CHECK(m.agreement < 0.95);
    CHECK(m.at_cut == 0);
  }
  SECTION("the least confident one swapped for another candidate of the same score (a capped list)") {
    auto got = rows(want, at::arange(0, 10));
    got.boxes[9] = at::tensor({400.0f, 400.0f, 450.0f, 450.0f});
    auto m = match_detections(outputs_of({want}), outputs_of({got}), groups);
    CHECK(m.matched == 9);
    CHECK(m.at_cut == 2);  // the float one and the int8 one, both at the lowest score kept
    CHECK(m.agreement == Approx(1.0));
  }
  SECTION("the least confident one swapped for an overlapping candidate: paired under IoU >= 0.5, not when close") {
    auto got = rows(want, at::arange(0, 10));
    got.boxes[9] = want.boxes[9] + at::tensor({3.0f, 3.0f, 3.0f, 3.0f});  // IoU about 0.8
    auto loose = match_detections(outputs_of({want}), outputs_of({got}), groups);
    CHECK(loose.matched == 10);
    auto close = match_detections(outputs_of({want}), outputs_of({got}), groups,
                                  mlopt::MatchCriteria::close(0.02));
    CHECK(close.matched == 9);
    CHECK(close.at_cut == 2);
    CHECK(close.agreement == Approx(1.0));
  }
  SECTION("boxes moved far away (a broken box head)") {
    auto got = want;
    got.boxes = want.boxes + 300;
    auto m = match_detections(outputs_of({want}), outputs_of({got}), groups);
    CHECK(m.matched == 0);
    CHECK(m.agreement < 0.2);
  }
  SECTION("another label for every detection") {
    auto got = want;
    got.labels = want.labels + 10;
    CHECK(match_detections(outputs_of({want}), outputs_of({got}), groups).agreement < 0.2);
  }
}
