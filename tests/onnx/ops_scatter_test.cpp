// Scatters and nonzero (onnx/ops/scatter.cpp, onnx/ops/indexing.cpp) against
// ONNX Runtime and mlopt's evaluator: scatter_add with src larger than the
// index, index_add with alpha and negative dims, index_put with one or more
// index tensors (adjacent or not, broadcast, negative positions, accumulate
// with repeated positions), the in-place forms writing into a graph input and
// into a slice of a tensor (the result equals eager), and the refusals.
#include <catch2/catch.hpp>

#include <limits>

#include "mlopt/core/error.h"
#include "onnx/ort_oracle.h"

using mlopt::test::compare_with_ort;
using mlopt::test::expect_matches_ort_and_evaluator;
using mlopt::test::make_module;

namespace {

using mlopt::test::kInf;
using mlopt::test::kNaN;

}  // namespace

TEST_CASE("onnx op: scatter_add and index_add (alpha, negative dims, src larger than the index)", "[onnx-ort]") {
  auto x = torch::tensor({0.0f, -1.0f, kNaN, 2.0f, kInf, 0.5f, -0.0f, 3.0f}, at::kFloat).reshape({2, 4});
  auto src = torch::tensor({1.0f, 2.0f, 3.0f, -4.0f, 5.0f, 6.0f, 0.0f, -1.0f, 9.0f, 1.0f}, at::kFloat).reshape({2, 5});
  auto idx = torch::tensor({3, 3, 0, 1, 1, 1}, at::kLong).reshape({2, 3});
  auto pick = torch::tensor({1, 0, 1}, at::kLong);
  expect_matches_ort_and_evaluator(
      "def forward(self, x, src, idx, pick):\n"
      "  a = torch.scatter_add(x, 1, idx, src)\n"
      "  b = x.scatter_add(-1, idx, src[:, :3])\n"
      "  c = x.index_add(0, pick, src[[0, 1, 0]][:, :4], alpha=2.5)\n"
      "  d = torch.index_add(x, -1, pick, src[:, :3])\n"
      "  return a, b, c, d",
      {"x:batch=2x4", "src:batch=2x5", "idx:batch=2x3:int64:0..4", "pick:3:int64:0..2"}, {3},
      {{x, src, idx, pick}});
}

TEST_CASE("onnx op: index_put with one or more index tensors, accumulate, negative positions", "[onnx-ort]") {
  // rows and cols: distinct positions (a shifted arange), odd ones negative (counted from the end).
  auto twice = torch::tensor({1, 1, 0, -3}, at::kLong);  // accumulate adds repeated positions
  expect_matches_ort_and_evaluator(
      "def forward(self, x, v, r, twice):\n"
      "  i = torch.arange(3) + r\n"
      "  rows = i % 3\n"
      "  rows = rows - 3 * (rows % 2)\n"
      "  cols = i % x.size(1)\n"
      "  cols = cols - x.size(1) * (cols % 2)\n"
      "  a = x.clone()\n"
      "  a[rows] = v[:3]\n"
      "  b = torch.index_put(x, [rows, cols], v[0, :3])\n"
      "  c = x.index_put([twice], v[0], True)\n"
      "  d = x.clone()\n"
      "  d[:, cols] = 7.0\n"
      "  e = torch.index_put(x, [rows.unsqueeze(1), cols.unsqueeze(0)], v[:3, :3] + 1.0)\n"
      "  f = x.unsqueeze(1).repeat(1, 2, 1)\n"
      "  f[rows, :, cols] = -1.0\n"
      "  return a, b, c, d, e, f",
      {"x:3xn=4", "v:3xn=4", "r:1:int64:0..9", "twice:4:int64:0..3"}, {6},
      {{torch::zeros({3, 4}), torch::randn({3, 4}), torch::tensor({2}, at::kLong), twice}});
}

TEST_CASE("onnx op: in-place scatter_add_, index_add_ and index_put_ on graph inputs and slices equal eager",
          "[onnx-ort]") {
  // The module returns the tensors it wrote into: a graph input, and a tensor through a slice and a select.
  expect_matches_ort_and_evaluator(
      "def forward(self, x, y, idx):\n"
      "  x.scatter_add_(1, idx, y)\n"
      "  y[:, idx[0]] = 0.5\n"
      "  z = x * 2.0\n"
      "  z[:, 1:].index_add_(1, idx[0, :2], y[:, :2])\n"
      "  z[0].index_put_([idx[1]], y[1, :3], True)\n"
      "  return x, y, z",
      {"x:batch=2x4", "y:batch=2x4", "idx:2x3:int64:0..3"}, {3});
}

TEST_CASE("onnx op: nonzero and torch.where(cond) (the positions per dim)", "[onnx-ort]") {
  auto x = torch::tensor({0.0f, -0.0f, kNaN, 2.0f, kInf, 0.0f, -1.0f, 0.0f}, at::kFloat).reshape({2, 4});
  expect_matches_ort_and_evaluator(
      "def forward(self, x):\n"
      "  m = x > 0.2\n"
      "  r, c = torch.where(m)\n"
      "  return torch.nonzero(x), m.nonzero(), r, c, x.index_select(1, c), torch.nonzero(x[0] * 0.0)",
      {"x:batch=3x4"}, {5}, {{x}});
}

TEST_CASE("onnx op: scatters refuse boolean masks and opsets before 16 with one line", "[onnx]") {
  auto mask = make_module("def forward(self, x):\n  x[x > 0] = 0.0\n  return x");
  CHECK_THROWS_WITH(compare_with_ort(mask, {"x:2x3"}),
                    Catch::Contains("aten::index_put") && Catch::Contains("boolean mask"));
  auto add = make_module("def forward(self, x, i):\n  return x.scatter_add(0, i, x)");
  CHECK_THROWS_WITH(compare_with_ort(add, {"x:2x3", "i:2x3:int64:0..2"}, {}, 15),
                    Catch::Contains("aten::scatter_add") && Catch::Contains("opset 16"));
  auto grid = make_module("def forward(self, x, g):\n  return torch.grid_sampler(x, g, 0, 0, False)");
  CHECK_THROWS_WITH(compare_with_ort(grid, {"x:1x1x3x3", "g:1x2x2x2"}, {}, 13),
                    Catch::Contains("aten::grid_sampler") && Catch::Contains("opset 16"));
}
