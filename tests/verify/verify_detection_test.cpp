// verify on a detection model: detections compared as matched sets (the row
// order and the rows at the score cut turn on last bits), the pairs element by
// element; a detection missing away from the cut fails.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

namespace {

using Named = std::vector<std::pair<std::string, at::Tensor>>;

// ssd_tiny's outputs on verify's first random input, saved by --save-outputs.
Named saved_outputs(const std::string& dir) {
  auto r = mlopt::test::run_mlopt({"verify", mlopt::test::test_data("detection/ssd_tiny.pt"), mlopt::test::test_data("detection/ssd_tiny.pt"),
                                   "--input", "x:1x3x64x64", "--samples", "1", "--save-outputs", dir + "/out.npz"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return mlopt::load_tensors(dir + "/out.npz");
}

mlopt::test::CommandResult verify_against(const std::string& dir, const Named& expected) {
  mlopt::save_tensors(dir + "/expected.npz", expected);
  return mlopt::test::run_mlopt({"verify", mlopt::test::test_data("detection/ssd_tiny.pt"), "--expected",
                                 dir + "/expected.npz", "--input", "x:1x3x64x64", "--samples", "1"});
}

}  // namespace

TEST_CASE("verify: a detector's detections in another row order are the same detections", "[verify][detection]") {
  auto dir = mlopt::test::temp_dir("verify_detection");
  auto outputs = saved_outputs(dir);
  REQUIRE(outputs.size() == 3);
  const int64_t n = outputs[0].second.size(0);
  REQUIRE(n > 4);
  auto reversed = at::arange(n - 1, -1, -1);
  Named permuted;
  for (const auto& [name, t] : outputs) permuted.emplace_back(name, t.index_select(0, reversed));
  auto r = verify_against(dir, permuted);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);

  // Boxes [N, 4] are no classifier's logits: no top-1 agreement for them.
  auto j = mlopt::test::run_mlopt({"verify", mlopt::test::test_data("detection/ssd_tiny.pt"), "--expected",
                                   dir + "/expected.npz", "--input", "x:1x3x64x64", "--samples", "1", "--json"});
  REQUIRE(j.exit_code == 0);
  auto report = nlohmann::json::parse(j.out);
  bool boxes_seen = false;
  for (const auto& o : report["outputs"]) {
    if (o["shape_a"].size() != 2 || o["shape_a"][1] != 4) continue;
    boxes_seen = true;
    CHECK(o["top1_agreement"].is_null());
  }
  CHECK(boxes_seen);
}

TEST_CASE("verify: a detector's confident detection missing from the reference fails", "[verify][detection]") {
  auto dir = mlopt::test::temp_dir("verify_detection");
  auto outputs = saved_outputs(dir);
  const int64_t n = outputs[0].second.size(0);
  auto rest = at::arange(1, n);  // the highest score is first
  Named fewer;
  for (const auto& [name, t] : outputs) fewer.emplace_back(name, t.index_select(0, rest));
  auto r = verify_against(dir, fewer);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out + r.err, Catch::Contains("missing or extra"));
}

TEST_CASE("verify: a detector's keypoint moved by a heatmap cell passes, all of them moved fails", "[verify][detection]") {
  // Keypoints are the argmax of a heatmap: a last-bit tie moves one by a cell
  // (Keypoint R-CNN against its own export: 4 of 5,100 values, up to 12.7 px).
  auto dir = mlopt::test::temp_dir("verify_keypoints");
  const std::string model = mlopt::test::test_data("detection/keypoint_tiny.pt");
  auto saved = mlopt::test::run_mlopt({"verify", model, model, "--input", "x:1x3x8x8", "--samples", "1",
                                       "--save-outputs", dir + "/out.npz"});
  INFO(saved.err);
  REQUIRE(saved.exit_code == 0);
  auto outputs = mlopt::load_tensors(dir + "/out.npz");
  REQUIRE(outputs.size() == 4);
  auto verify_with_keypoints = [&](const at::Tensor& keypoints) {
    Named expected = outputs;
    expected[3].second = keypoints;
    mlopt::save_tensors(dir + "/expected.npz", expected);
    return mlopt::test::run_mlopt({"verify", model, "--expected", dir + "/expected.npz", "--input", "x:1x3x8x8",
                                   "--samples", "1"});
  };
  auto one_moved = outputs[3].second.clone();
  one_moved[3][5][0] += 12.7;
  auto tie = verify_with_keypoints(one_moved);
  INFO(tie.out << tie.err);
  CHECK(tie.exit_code == 0);
  auto all_moved = outputs[3].second.clone();
  all_moved.select(2, 0).add_(5.0);
  auto wrong = verify_with_keypoints(all_moved);
  INFO(wrong.out << wrong.err);
  CHECK(wrong.exit_code == 3);
  CHECK_THAT(wrong.out + wrong.err, Catch::Contains("output3") && Catch::Contains("outside"));
}
