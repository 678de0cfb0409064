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
using mlopt::test::expect_matches_ort;
using mlopt::test::make_module;

namespace {

// Boxes from x [n, 4] (corners, sizes of at least one pixel), scores from s [n].
const char* kNms =
    "def forward(self, x, s):\n"
    "  xy = x[:, 0:2] * 6.0\n"
    "  boxes = torch.cat([xy, xy + 1.0 + torch.exp(x[:, 2:4]) * 3.0], 1)\n"
    "  keep = torch.ops.torchvision.nms(boxes, torch.sigmoid(s), 0.4)\n"
    "  tied = torch.round(torch.sigmoid(s) * 4.0) / 4.0\n"
    "  keep_tied = torch.ops.torchvision.nms(boxes, tied, 0.2)\n"
    "  return keep, boxes[keep], keep_tied\n";

// rois [k, 5] on a 2-image batch: the batch index from the sign of r[:, 0].
const char* kRoiAlign =
    "def forward(self, x, r):\n"
    "  xy = r[:, 0:2] * 4.0 + 4.0\n"
    "  boxes = torch.cat([xy, xy + 2.0 + torch.exp(r[:, 2:4]) * 3.0], 1)\n"
    "  batch = (r[:, 0:1] > 0.0).float()\n"
    "  rois = torch.cat([batch, boxes], 1)\n"
    "  a = torch.ops.torchvision.roi_align(x, rois, 1.0, 3, 3, 2, False)\n"
    "  b = torch.ops.torchvision.roi_align(x, rois, 1.0, 2, 4, -1, True)\n"
    "  c = torch.ops.torchvision.roi_align(x, rois, 0.5, 3, 5, 0, False)\n"
    "  d = torch.ops.torchvision.roi_align(x, rois, 0.5, 2, 2, 3, True)\n"
    "  return a, b, c, d\n";

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

TEST_CASE("onnx torchvision: nms as NonMaxSuppression, ties, overlaps and no boxes", "[onnx-ort][torchvision]") {
  auto identical = torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}).repeat({6, 1});
  auto r = expect_matches_ort(kNms, {"x:n=40x4", "s:n=40"}, {3, 200},
                              {{torch::zeros({0, 4}), torch::zeros({0})},   // no boxes
                               {identical, torch::full({6}, 0.5f)},        // the same box, tied scores
                               {identical, torch::arange(6).to(at::kFloat)}});
  CHECK(r.ops["NonMaxSuppression"] == 2);
}

TEST_CASE("onnx torchvision: roi_align as RoiAlign, aligned or not, every sampling ratio, opset 16 and 13",
          "[onnx-ort][torchvision]") {
  auto r = expect_matches_ort(kRoiAlign, {"x:2x3x12x16", "r:k=7x4"}, {1, 20});
  CHECK(r.ops["RoiAlign"] == 4);
  // Before opset 16 aligned boxes are shifted by half a pixel instead (boxes over one pixel match).
  auto m = make_module(kRoiAlign);
  auto old = compare_with_ort(m, {"x:2x3x12x16", "r:k=7x4"}, {20}, 13);
  for (double e : old.max_rel_error) CHECK(e < 1e-4);
  CHECK(old.ops["Sub"] >= 2);
}

TEST_CASE("onnx torchvision: the built-in evaluator runs the exported nms and roi_align", "[onnx][torchvision]") {
  torch::manual_seed(3);
  auto nms = make_module(kNms);
  auto nms_model = mlopt::export_module(nms, mlopt::parse_input_specs({"x:n=40x4", "s:n=40"}), {});
  expect_evaluator_matches(nms, nms_model, {torch::randn({40, 4}), torch::randn({40})});
  expect_evaluator_matches(nms, nms_model, {torch::randn({300, 4}), torch::randn({300})});
  expect_evaluator_matches(nms, nms_model, {torch::zeros({0, 4}), torch::zeros({0})});
  auto roi = make_module(kRoiAlign);
  auto roi_model = mlopt::export_module(roi, mlopt::parse_input_specs({"x:2x3x12x16", "r:k=7x4"}), {});
  expect_evaluator_matches(roi, roi_model, {torch::randn({2, 3, 12, 16}), torch::randn({9, 4})});
}

TEST_CASE("onnx torchvision: torchvision's SSD and Faster R-CNN (tiny backbones) match in ONNX Runtime",
          "[onnx-ort][torchvision]") {
  // Both give detections on random images (tests/runtime/torchvision_ops_test.cpp): the
  // comparison is between non-empty boxes, scores and labels.
  for (const char* name : {"ssd_tiny.pt", "fasterrcnn_tiny.pt"}) {
    INFO(name);
    auto m = torch::jit::load(mlopt::test::test_data(std::string("detection/") + name));
    auto r = compare_with_ort(m, {"x:1x3x64x64"});
    for (double e : r.max_rel_error) CHECK(e < 1e-4);
    CHECK(r.ops["NonMaxSuppression"] >= 1);
  }
}
