// Norms (onnx/ops/vector_norm.cpp) against ONNX Runtime and mlopt's evaluator:
// every order (2, 1, inf, -inf, 0, other p), dims None / int / list, negative
// dims, keepdim, the dtype argument, matrix norms, and edge values (zeros,
// negatives, NaN, inf) at two sizes of a dynamic dim.
#include <catch2/catch.hpp>

#include <limits>

#include "onnx/ort_oracle.h"

using mlopt::test::expect_matches_ort_and_evaluator;

namespace {

using mlopt::test::kInf;
using mlopt::test::kNaN;

at::Tensor edge_values() {
  return torch::tensor({0.0f, -0.0f, -3.0f, 2.0f, 0.5f, -1.5f, 4.0f, 0.0f, kNaN, 1.0f, -kInf, 2.0f, 0.0f, 0.0f, 0.0f,
                        0.0f, -2.0f, 3.0f, 1.0f, 1.0f, 0.25f, -0.25f, 7.0f, -7.0f},
                       at::kFloat)
      .reshape({2, 3, 4});
}

}  // namespace

TEST_CASE("onnx op: linalg_vector_norm and norm of every order, dims and keepdim", "[onnx-ort]") {
  expect_matches_ort_and_evaluator(
      "def forward(self, x):\n"
      "  return (torch.linalg_vector_norm(x), torch.linalg_vector_norm(x, 1, [0, 2]),\n"
      "          torch.linalg_vector_norm(x, float('inf'), -1, True), torch.linalg_vector_norm(x, float('-inf'), 1),\n"
      "          torch.linalg_vector_norm(x, 0, -1), torch.linalg_vector_norm(x, 3.0, [1, -1], True),\n"
      "          torch.linalg_vector_norm(x, 0.5, -1), torch.linalg_vector_norm(x, 2, 0, dtype=7),\n"
      "          x.norm(), x.norm(1), x.norm(2, -1, True), torch.norm(x, None, [1]), torch.norm(x, 3),\n"
      "          torch.norm(x, float('inf'), [0, 1]), torch.norm(x, 2, [-1], False, dtype=7),\n"
      "          torch.frobenius_norm(x), torch.frobenius_norm(x, [1, 2], True), torch.frobenius_norm(x, [0], False))",
      {"x:batch=2x3x4"}, {5}, {{edge_values()}});
}

TEST_CASE("onnx op: linalg_norm vector and matrix norms ('fro', 1, -1, inf, -inf)", "[onnx-ort]") {
  expect_matches_ort_and_evaluator(
      "def forward(self, x):\n"
      "  return (torch.linalg_norm(x), torch.linalg_norm(x, dim=(1, 2)), torch.linalg_norm(x, 'fro', (1, 2)),\n"
      "          torch.linalg_norm(x, 1, (1, 2)), torch.linalg_norm(x, -1, (-2, -1), True),\n"
      "          torch.linalg_norm(x, float('inf'), (2, 1)), torch.linalg_norm(x, float('-inf'), (1, 2)),\n"
      "          torch.linalg_norm(x, 3.0, -1), torch.linalg_norm(x[0, 0], 1), torch.linalg_norm(x[0], 'fro'),\n"
      "          torch.linalg_norm(x[0], 1))",
      {"x:batch=2x3x4"}, {4}, {{edge_values()}});
}

TEST_CASE("onnx op: a matrix norm ONNX cannot compute is refused with one line", "[onnx]") {
  auto m = mlopt::test::make_module("def forward(self, x):\n  return torch.linalg_norm(x, 'nuc')");
  CHECK_THROWS_WITH(mlopt::test::compare_with_ort(m, {"x:3x4"}),
                    Catch::Contains("aten::linalg_norm") && Catch::Contains("ord=nuc") &&
                        Catch::Contains("singular values"));
}
