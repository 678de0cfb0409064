// torchvision::nms and torchvision::roi_align exported (lib/mlopt/onnx/ops/
// torchvision.cpp) and run in ONNX Runtime and in the built-in evaluator,
// against LibTorch running mlopt's kernels (lib/mlopt/runtime/torchvision_ops.cpp).
#include <catch2/catch.hpp>

#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/onnx/export.h"
#include "mlopt/runtime/runner.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using mlopt::test::compare_with_ort;

namespace {

// The modules (tests/fixtures/make_detection_fixtures.py: TorchScript's C++
// compiler cannot resolve torch.ops.torchvision): nms_cases.pt makes boxes
// from x [n, 4] and scores from s [n] (distinct, and with ties);
// roi_align_cases.pt pools rois made from r [k, 4] on a 2-image batch, aligned
// and not, sampling ratios 2, -1, 0 and 3.
torch::jit::Module fixture(const std::string& name) {
  auto m = torch::jit::load(mlopt::test::test_data("detection/" + name));
  m.eval();
  return m;
}

void expect_ort_matches(const mlopt::test::OrtComparison& r, size_t runs) {
  REQUIRE(r.max_rel_error.size() == runs);
  for (size_t k = 0; k < runs; ++k) {
    INFO("run " << k);
    CHECK(r.max_rel_error[k] < 1e-4);
  }
}

// The exported file in the built-in evaluator against LibTorch.
void expect_evaluator_matches(torch::jit::Module& m, const onnx::ModelProto& model,
                              const std::vector<at::Tensor>& inputs) {
  auto path = mlopt::test::temp_dir("tv_eval") + "/m.onnx";
  std::string bytes;
  model.SerializeToString(&bytes);
  mlopt::write_file_atomically(path, bytes);
  auto got = mlopt::load_runner(path)->run(inputs);
  std::vector<c10::IValue> args(inputs.begin(), inputs.end());
  auto out = m.forward(args).toTuple()->elements();
  REQUIRE(got.size() == out.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("output " << i);
    auto want = out[i].toTensor();
    REQUIRE(got[i].sizes() == want.sizes());
    if (want.is_floating_point() && want.numel())
      CHECK((got[i] - want).abs().max().item<double>() < 1e-4);
    else
      CHECK(torch::equal(got[i], want));
  }
}

}  // namespace

TEST_CASE("onnx torchvision: nms as NonMaxSuppression with ties and overlaps and no boxes", "[onnx-ort][torchvision]") {
  auto identical = torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}).repeat({6, 1});
  auto m = fixture("nms_cases.pt");
  auto r = compare_with_ort(m, {"x:n=40x4", "s:n=40"}, {3, 200}, 17,
                            {{torch::zeros({0, 4}), torch::zeros({0})},   // no boxes
                             {identical, torch::full({6}, 0.5f)},        // the same box, tied scores
                             {identical, torch::arange(6).to(at::kFloat)}});
  expect_ort_matches(r, 6);
  CHECK(r.ops["NonMaxSuppression"] == 2);
}

TEST_CASE("onnx torchvision: roi_align as RoiAlign aligned or not at every sampling ratio in opsets 16 and 13",
          "[onnx-ort][torchvision]") {
  auto m = fixture("roi_align_cases.pt");
  auto r = compare_with_ort(m, {"x:2x3x12x16", "r:k=7x4"}, {1, 20});
  expect_ort_matches(r, 3);
  CHECK(r.ops["RoiAlign"] == 4);
  // Before opset 16 aligned boxes are shifted by half a pixel instead (boxes over one pixel match).
  auto old = compare_with_ort(m, {"x:2x3x12x16", "r:k=7x4"}, {20}, 13);
  expect_ort_matches(old, 2);
  CHECK(old.ops["Sub"] >= 2);
}

TEST_CASE("onnx torchvision: the built-in evaluator runs the exported nms and roi_align", "[onnx][torchvision]") {
  torch::manual_seed(3);
  auto nms = fixture("nms_cases.pt");
  auto nms_model = mlopt::export_module(nms, mlopt::parse_input_specs({"x:n=40x4", "s:n=40"}), {});
  expect_evaluator_matches(nms, nms_model, {torch::randn({40, 4}), torch::randn({40})});
  expect_evaluator_matches(nms, nms_model, {torch::randn({300, 4}), torch::randn({300})});
  expect_evaluator_matches(nms, nms_model, {torch::zeros({0, 4}), torch::zeros({0})});
  auto roi = fixture("roi_align_cases.pt");
  auto roi_model = mlopt::export_module(roi, mlopt::parse_input_specs({"x:2x3x12x16", "r:k=7x4"}), {});
  expect_evaluator_matches(roi, roi_model, {torch::randn({2, 3, 12, 16}), torch::randn({9, 4})});
}

TEST_CASE("onnx torchvision: torchvision's SSD and Faster R-CNN (tiny backbones) export and match ONNX Runtime",
          "[onnx-ort][torchvision]") {
  // Both give detections on random images (tests/runtime/torchvision_ops_test.cpp): a
  // comparison is between non-empty boxes, scores and labels, through the whole
  // pipeline: batch_images' loop writing the image into the batch, anchor grids,
  // box decoding, per-class NMS and (Faster R-CNN) RoiAlign over the proposals.
  for (const char* name : {"ssd_tiny.pt", "fasterrcnn_tiny.pt"}) {
    INFO(name);
    auto model = mlopt::test::test_data(std::string("detection/") + name);
    auto out = mlopt::test::temp_dir("tv_models") + "/" + name + ".onnx";
    auto r = mlopt::test::run_mlopt({"export-onnx", model, "--input", "x:1x3x64x64", "-o", out});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto m = fixture(name);
    // A score threshold inside the range of scores, then random, dim and
    // bright images: some, none and all (the cap) of the detections pass,
    // other counts than the probes saw, which the exported graph must follow.
    bool ssd = std::string(name) == "ssd_tiny.pt";
    auto detector = m.attr("model").toModule();
    (ssd ? detector : detector.attr("roi_heads").toModule()).setattr("score_thresh", ssd ? 0.55 : 0.29);
    torch::manual_seed(3);
    auto dim = torch::randn({1, 3, 64, 64}) * 0.2, bright = torch::randn({1, 3, 64, 64}) * 3.0 + 1.0;
    auto cmp = compare_with_ort(m, {"x:1x3x64x64"}, {}, 17, {{dim}, {bright}});
    expect_ort_matches(cmp, 3);
    CHECK(cmp.ops["NonMaxSuppression"] >= 1);
    if (std::string(name) == "fasterrcnn_tiny.pt") CHECK(cmp.ops["RoiAlign"] >= 1);
  }
}
