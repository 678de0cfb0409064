// Common converters on tensors with a 0-sized dim (an empty batch, a
// 0-length sequence), exported at that size or at another and run at 0, in
// ONNX Runtime and mlopt's evaluator, and `mlopt export-onnx --input x:0x4`.
#include <catch2/catch.hpp>

#include "mlopt/core/model_io.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using mlopt::test::expect_matches_ort_and_evaluator;

namespace {

const char* kBody =
    "def forward(self, x, y):\n"
    "  return (x + y, torch.matmul(x, self.w), torch.cat([x, y * 2.0], 0), torch.cat([x, y], -1), x.sum(0),\n"
    "          torch.softmax(x, -1), torch.log_softmax(x, -1), torch.relu(x) * 3.0)";

}  // namespace

TEST_CASE("onnx export: add, matmul, cat, sum, softmax on an empty batch", "[onnx-ort]") {
  std::map<std::string, at::Tensor> params{{"w", torch::randn({4, 3})}};
  // Exported at batch 0 (a static 0), and exported at batch 2 then run at 0.
  expect_matches_ort_and_evaluator(kBody, {"x:0x4", "y:0x4"}, {}, {}, params);
  expect_matches_ort_and_evaluator(kBody, {"x:batch=2x4", "y:batch=2x4"}, {0}, {}, params);
  expect_matches_ort_and_evaluator(kBody, {"x:batch=0x4", "y:batch=0x4"}, {3}, {}, params);
}

TEST_CASE("onnx export: a 0-length sequence through attention-like ops", "[onnx-ort]") {
  expect_matches_ort_and_evaluator(
      "def forward(self, x):\n"
      "  s = torch.matmul(x, x.transpose(1, 2)).softmax(-1)\n"
      "  return torch.matmul(s, x), torch.cat([x, x], 1).sum(1)",
      {"x:2xseq=5x4"}, {0});
}

TEST_CASE("mlopt export-onnx --input x:0x4 writes a model that runs on the empty batch", "[onnx-ort]") {
  auto dir = mlopt::test::temp_dir("empty_export");
  auto m = mlopt::test::make_module("def forward(self, x):\n  return torch.softmax(x * 2.0, -1).sum(0)");
  mlopt::save_module(m, dir + "/m.pt");
  auto r = mlopt::test::run_mlopt({"export-onnx", dir + "/m.pt", "--input", "x:0x4", "-o", dir + "/m.onnx"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto outs = mlopt::test::run_in_ort(dir + "/m.onnx", {{"x", torch::zeros({0, 4})}});
  REQUIRE(outs.size() == 1);
  CHECK(outs[0].second.sizes() == at::IntArrayRef({4}));
  CHECK(torch::equal(outs[0].second, torch::zeros({4})));
}
