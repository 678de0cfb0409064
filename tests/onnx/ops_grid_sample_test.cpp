// grid_sample (onnx/ops/grid_sample.cpp) against ONNX Runtime and mlopt's
// evaluator: every interpolation mode x padding mode x align_corners, a grid
// reaching outside [-1, 1], edge grid values (-1, 0, 1, far outside) and
// zeros, at two batch sizes.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "onnx/ort_oracle.h"

using mlopt::test::expect_matches_ort_and_evaluator;

TEST_CASE("onnx op: grid_sample, every mode, padding mode and align_corners", "[onnx-ort]") {
  std::string body = "def forward(self, x, g):\n  g = g * 1.3\n  return (";
  // F.grid_sample's modes by PyTorch's codes: bilinear 0, nearest 1, bicubic 2; zeros 0, border 1, reflection 2.
  for (int mode = 0; mode < 3; ++mode)
    for (int padding = 0; padding < 3; ++padding)
      for (const char* align : {"False", "True"})
        body += fmt::format("torch.grid_sampler(x, g, {}, {}, {}),\n    ", mode, padding, align);
  body += ")";
  auto grid = torch::tensor({-1.0f, -1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 3.0f, -2.5f, -1.0f, 1.0f, 0.25f, -0.75f}, at::kFloat)
                  .reshape({1, 2, 3, 2}) /
              1.3;
  auto x = torch::randn({1, 2, 5, 6});
  x.index_put_({0, 0}, 0.0);
  expect_matches_ort_and_evaluator(body, {"x:batch=1x2x5x6", "g:batch=1x2x3x2"}, {3}, {{x, grid}});
}
