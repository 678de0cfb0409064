// Losses inside a graph (onnx/ops/losses.cpp) against ONNX Runtime and mlopt's
// evaluator: every reduction, class weights, ignore_index, unbatched and
// K-dimensional inputs, class-probability targets, pos_weight, log_target, the
// beta/delta of smooth L1 and Huber, and edge values (zeros, negatives, NaN,
// inf) at two sizes of a dynamic dim.
#include <catch2/catch.hpp>

#include <limits>

#include "onnx/ort_oracle.h"

using mlopt::test::compare_with_ort;
using mlopt::test::expect_matches_ort_and_evaluator;
using mlopt::test::make_module;

namespace {

using mlopt::test::kInf;
using mlopt::test::kNaN;

}  // namespace

TEST_CASE("onnx op: cross_entropy and nll_loss (weight, ignore_index, reductions, unbatched, K-dim)", "[onnx-ort]") {
  auto w = torch::rand({5}) + 0.5;
  auto x = torch::tensor({0.0f, -1.0f, 2.0f, 30.0f, -30.0f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, -4.0f, 3.0f, 0.0f, 1.0f, 2.0f},
                         at::kFloat)
               .reshape({3, 5});
  auto t = torch::tensor({3, 2, 0}, at::kLong);  // 2 is the ignore_index
  expect_matches_ort_and_evaluator(
      "def forward(self, x, t, img, tk):\n"
      "  return (torch.cross_entropy_loss(x, t, None, 1, -100, 0.0),\n"
      "          torch.cross_entropy_loss(x, t, self.w, 2, -100, 0.0),\n"
      "          torch.cross_entropy_loss(x, t, None, 0, 2, 0.0),\n"
      "          torch.cross_entropy_loss(x, t, self.w, 1, 2, 0.0),\n"
      "          torch.cross_entropy_loss(x[0], t[0], None, 1, -100, 0.0),\n"
      "          torch.cross_entropy_loss(x[0], t[0], None, 0, -100, 0.0),\n"
      "          torch.cross_entropy_loss(img, tk, self.w, 1, -100, 0.0),\n"
      "          torch.cross_entropy_loss(img, tk, None, 0, -100, 0.0),\n"
      "          torch.nll_loss_nd(x.log_softmax(1), t, None, 1, -100),\n"
      "          torch.nll_loss_nd(x, t, self.w, 0, 2),\n"
      "          torch.nll_loss_nd(img, tk, self.w, 2, -100),\n"
      "          torch.nll_loss_nd(img, tk, None, 1, 1),\n"
      "          torch.nll_loss_nd(x[1], t[1], None, 1, -100))",
      {"x:batch=3x5", "t:batch=3:int64:0..5", "img:2x5x3x4", "tk:2x3x4:int64:0..5"}, {4},
      {{x, t, torch::randn({2, 5, 3, 4}), torch::randint(0, 5, {2, 3, 4}, at::kLong)}}, {{"w", w}});
}

TEST_CASE("onnx op: cross_entropy with class-probability targets", "[onnx-ort]") {
  auto w = torch::rand({4}) + 0.5;
  expect_matches_ort_and_evaluator(
      "def forward(self, x, p, img, pk):\n"
      "  q = p.softmax(1)\n"
      "  return (torch.cross_entropy_loss(x, q, None, 1, -100, 0.0),\n"
      "          torch.cross_entropy_loss(x, q, self.w, 2, -100, 0.0),\n"
      "          torch.cross_entropy_loss(x, q, None, 0, -100, 0.0),\n"
      "          torch.cross_entropy_loss(x[0], q[0], None, 1, -100, 0.0),\n"
      "          torch.cross_entropy_loss(img, pk.softmax(1), self.w, 0, -100, 0.0),\n"
      "          torch.cross_entropy_loss(img, pk.softmax(1), None, 1, -100, 0.0))",
      {"x:batch=2x4", "p:batch=2x4", "img:2x4x3x2", "pk:2x4x3x2"}, {5}, {}, {{"w", w}});
}

TEST_CASE("onnx op: binary_cross_entropy_with_logits, kl_div, mse, l1, smooth_l1, huber", "[onnx-ort]") {
  auto pos = torch::rand({4}) * 3.0;
  auto w = torch::rand({4});
  auto x = torch::tensor({0.0f, -0.0f, -3.0f, 100.0f, -100.0f, 0.5f, kNaN, 2.0f, kInf, -kInf, 1.0f, -1.0f},
                         at::kFloat)
               .reshape({3, 4});
  auto y = torch::tensor({0.0f, 1.0f, 0.5f, 1.0f, 0.0f, 0.0f, 0.3f, 2.0f, 1.0f, 0.0f, 0.9f, -1.0f}, at::kFloat)
               .reshape({3, 4});
  expect_matches_ort_and_evaluator(
      "def forward(self, x, y):\n"
      "  return (torch.binary_cross_entropy_with_logits(x, y, None, None, 1),\n"
      "          torch.binary_cross_entropy_with_logits(x, y, None, None, 0),\n"
      "          torch.binary_cross_entropy_with_logits(x, y, self.w, self.pos, 2),\n"
      "          torch.binary_cross_entropy_with_logits(x, y, None, self.pos, 0),\n"
      "          torch.kl_div(x, y, 0, log_target=False),\n"
      "          torch.kl_div(x, y, 2, log_target=False) / x.size(0),\n"
      "          torch.kl_div(x, y, 0, log_target=True),\n"
      "          torch.kl_div(x, y, 2, log_target=True),\n"
      "          torch.mse_loss(x, y, 1),\n"
      "          torch.mse_loss(x, y[0], 0),\n"
      "          torch.l1_loss(x, y, 2),\n"
      "          torch.l1_loss(x, y, 0),\n"
      "          torch.smooth_l1_loss(x, y, 0, 1.0),\n"
      "          torch.smooth_l1_loss(x, y, 1, 0.5),\n"
      "          torch.smooth_l1_loss(x, y, 0, 0.0),\n"
      "          torch.huber_loss(x, y, 0, 1.0),\n"
      "          torch.huber_loss(x, y, 2, 2.5))",
      {"x:batch=3x4", "y:batch=3x4"}, {6}, {{x, y}}, {{"pos", pos}, {"w", w}});
}

TEST_CASE("onnx op: cross_entropy with label smoothing is refused with one line", "[onnx]") {
  auto m = make_module(
      "def forward(self, x, t):\n  return torch.cross_entropy_loss(x, t, None, 1, -100, 0.1)");
  CHECK_THROWS_WITH(compare_with_ort(m, {"x:2x3", "t:2:int64:0..3"}),
                    Catch::Contains("aten::cross_entropy_loss") && Catch::Contains("label_smoothing=0.1"));
}
