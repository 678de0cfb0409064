// The torchvision operators (lib/mlopt/runtime/torchvision_ops.cpp) against
// torchvision's own outputs (tests/fixtures/make_detection_fixtures.py), and
// detection archives that call them loading and running.
#include <catch2/catch.hpp>

#include <filesystem>
#include <torch/script.h>

#include <map>

#include "mlopt/core/tensor_file.h"
#include "mlopt/runtime/runner.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

std::map<std::string, at::Tensor> op_cases() {
  std::map<std::string, at::Tensor> cases;
  for (auto& [name, t] : load_tensors(test::test_data("detection/torchvision_ops.npz"))) cases[name] = t;
  return cases;
}

at::Tensor call_nms(const at::Tensor& boxes, const at::Tensor& scores, double iou) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("torchvision::nms", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, double)>();
  return op.call(boxes, scores, iou);
}

at::Tensor call_roi_align(const at::Tensor& x, const at::Tensor& rois, double scale, int64_t ph, int64_t pw,
                          int64_t ratio, bool aligned) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("torchvision::roi_align", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, double, int64_t, int64_t, int64_t, bool)>();
  return op.call(x, rois, scale, ph, pw, ratio, aligned);
}

}  // namespace

TEST_CASE("torchvision ops: nms keeps the indices torchvision keeps", "[runtime][torchvision]") {
  auto cases = op_cases();
  int checked = 0;
  for (int i = 0; cases.count("nms" + std::to_string(i) + "_boxes"); ++i, ++checked) {
    std::string p = "nms" + std::to_string(i) + "_";
    INFO("case " << i);
    auto keep = call_nms(cases[p + "boxes"], cases[p + "scores"], cases[p + "iou"].item<double>());
    CHECK(keep.scalar_type() == at::kLong);
    CHECK(keep.dim() == 1);
    CHECK(torch::equal(keep, cases[p + "keep"].to(at::kLong)));
  }
  CHECK(checked >= 7);
}

TEST_CASE("torchvision ops: roi_align matches torchvision aligned or not at every sampling ratio", "[runtime][torchvision]") {
  auto cases = op_cases();
  int checked = 0;
  for (int i = 0; cases.count("roi" + std::to_string(i) + "_input"); ++i, ++checked) {
    std::string p = "roi" + std::to_string(i) + "_";
    auto params = cases[p + "params"].to(at::kDouble);
    auto par = [&](int k) { return params[k].item<double>(); };
    INFO("case " << i << " scale " << par(0) << " pooled " << par(1) << "x" << par(2) << " ratio " << par(3)
                 << " aligned " << par(4));
    auto out = call_roi_align(cases[p + "input"], cases[p + "rois"], par(0), static_cast<int64_t>(par(1)),
                              static_cast<int64_t>(par(2)), static_cast<int64_t>(par(3)), par(4) != 0);
    auto expected = cases[p + "out"];
    REQUIRE(out.sizes() == expected.sizes());
    if (expected.numel()) CHECK((out - expected).abs().max().item<double>() < 1e-5);
  }
  CHECK(checked >= 13);
}

TEST_CASE("torchvision ops: bad shapes are one error naming the op", "[runtime][torchvision]") {
  try {
    call_nms(at::zeros({3, 5}), at::zeros({3}), 0.5);
    FAIL("no error");
  } catch (const c10::Error& e) {
    CHECK_THAT(e.what_without_backtrace(), Catch::Contains("torchvision::nms: boxes must be [N, 4]"));
  }
  try {
    call_roi_align(at::zeros({1, 2, 4, 4}), at::tensor({3.0f, 0.f, 0.f, 1.f, 1.f}).view({1, 5}), 1.0, 2, 2, 0, false);
    FAIL("no error");
  } catch (const c10::Error& e) {
    CHECK_THAT(e.what_without_backtrace(), Catch::Contains("batch index 3"));
  }
}

TEST_CASE("torchvision ops: scripted detection models load and run", "[runtime][torchvision]") {
  for (const char* name : {"ops_head.pt", "ssd_tiny.pt", "fasterrcnn_tiny.pt"}) {
    INFO(name);
    auto runner = load_runner(test::test_data(std::string("detection/") + name));
    at::Tensor x = std::string(name) == "ops_head.pt" ? torch::randn({1, 4, 16, 16}) : torch::rand({1, 3, 64, 64});
    auto out = runner->run({x});
    REQUIRE(out.size() >= 3);
    CHECK(out[0].dim() == 2);
    CHECK(out[0].size(0) > 0);  // detections (or kept boxes), not an empty list
    CHECK(out[0].size(1) == 4);
  }
}

TEST_CASE("torchvision ops: profile and verify run on a detection archive", "[runtime][torchvision][cli]") {
  auto model = test::test_data("detection/fasterrcnn_tiny.pt");
  auto profile = test::run_mlopt({"profile", model, "--input", "x:1x3x64x64", "--iters", "3", "--warmup", "1"});
  INFO(profile.err);
  CHECK(profile.exit_code == 0);
  auto verify = test::run_mlopt({"verify", model, model, "--input", "x:1x3x64x64", "--samples", "2"});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("torchvision ops: static int8 .pt of a detection model is refused in one line that names the way out",
          "[runtime][torchvision][cli]") {
  // LibTorch's observer pass cannot take methods with an ImageList argument.
  auto model = test::test_data("detection/ssd_tiny.pt");
  auto out = test::temp_dir("tv_quantize") + "/ssd_int8.pt";
  auto r = test::run_mlopt({"quantize", model, "--mode", "static", "--input", "x:1x3x64x64", "-o", out});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("mlopt: error: static int8 TorchScript (.pt, .ptl) needs LibTorch's observer pass") &&
                        Catch::Contains("quantize to .onnx instead"));
  CHECK(!std::filesystem::exists(out));
}

TEST_CASE("torchvision ops: tracing a detection model is refused in one line naming what forward returns",
          "[runtime][torchvision][cli]") {
  auto out = test::temp_dir("tv_trace") + "/ssd.ptl";
  auto r = test::run_mlopt({"trace", test::test_data("detection/ssd_tiny.pt"), "--input", "x:1x3x64x64", "-o", out});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("mlopt: error: forward returns List[Dict[str, Tensor]], which a trace cannot "
                                    "record") &&
                        Catch::Contains("mlopt export-onnx"));
  CHECK(!std::filesystem::exists(out));
}
