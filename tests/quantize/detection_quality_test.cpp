// quantize on detection models: judged on the matched detections, with the
// agreement in the report; int8 .pt refused in one line.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "support/test_support.h"

TEST_CASE("quantize: a detector is judged on its matched detections, with the agreement in the report",
          "[quantize][detection][cli]") {
  auto dir = mlopt::test::temp_dir("quantize_detection");
  auto out = dir + "/ssd_int8.onnx";
  auto r = mlopt::test::run_mlopt({"quantize", mlopt::test::test_data("detection/ssd_tiny.pt"), "--mode", "static",
                                   "--input", "x:1x3x64x64", "--no-latency", "--json", "-o", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  const auto& q = j["quality"];
  CHECK(q["detection_agreement"].get<double>() >= 0.9);
  CHECK(q["detections"]["float"].get<int>() > 0);
  CHECK(q["detections"]["matched"].get<int>() > 0);
  CHECK(q["output_sqnr_db"].get<double>() >= 15.0);
  CHECK(!q.contains("top1_agreement"));  // boxes [N, 4] are no classifier's logits
  CHECK(std::filesystem::exists(out));
}

TEST_CASE("quantize: dynamic int8 .pt of a detection model is refused in one line that names the way out",
          "[quantize][detection][cli]") {
  auto out = mlopt::test::temp_dir("quantize_detection") + "/frcnn_int8.pt";
  auto r = mlopt::test::run_mlopt({"quantize", mlopt::test::test_data("detection/fasterrcnn_tiny.pt"), "--mode",
                                   "dynamic", "--input", "x:1x3x64x64", "-o", out});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("mlopt: error: dynamic int8 TorchScript (.pt, .ptl) needs LibTorch's observer pass") &&
                        Catch::Contains("quantize to .onnx instead"));
  CHECK(!std::filesystem::exists(out));
}
