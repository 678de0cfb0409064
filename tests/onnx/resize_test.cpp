// nn.Upsample / F.interpolate in every mode -> ONNX Resize, against ONNX
// Runtime: output sizes and scale factors, align_corners, 1-D to 3-D, sizes
// computed from the input (dynamic dims survive), and edge values.
#include <catch2/catch.hpp>

#include "onnx/ort_oracle.h"

using mlopt::test::expect_matches_ort;

// The modules call the ATen ops F.interpolate calls (C++ TorchScript has no
// torch.nn.functional): scale_factor=s -> (input, None, [s, ...]), size=S ->
// (input, S, None), recompute_scale_factor=True -> (input, floor(in * s), None);
// mode 'nearest-exact' -> _upsample_nearest_exact*, 'area' -> adaptive_avg_pool.

namespace {

// Zeros, negatives and large magnitudes in one input of the given shape.
at::Tensor edge_values(const std::vector<int64_t>& shape) {
  auto t = torch::randn(shape) * 1e3;
  t.view(-1).slice(0, 0, 3).zero_();
  t.view(-1)[3] = -1e6;
  return t;
}

}  // namespace

TEST_CASE("onnx resize: nearest and nearest-exact by size and by scale factor", "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  return (torch.upsample_nearest2d(x, None, [2.0, 2.0]),\n"
      "          torch.upsample_nearest2d(x, None, [0.5, 0.5]),\n"
      "          torch.upsample_nearest2d(x, None, [1.5, 3.0]),\n"
      "          torch.upsample_nearest2d(x, [7, 3], None),\n"
      "          torch.upsample_nearest2d(x, [x.size(2) * 2 + 1, x.size(3) - 1], None),\n"
      "          torch._upsample_nearest_exact2d(x, [7, 3], None),\n"
      "          torch._upsample_nearest_exact2d(x, None, [2.5, 2.5]),\n"
      "          torch.upsample_nearest2d(x, [1, 1], None))",
      {"x:batch=1x2xh=4xw=6"}, {5, 8}, {{edge_values({1, 2, 4, 6})}});
  CHECK(r.ops["Resize"] == 8);
}

TEST_CASE("onnx resize: bilinear and bicubic, align_corners both ways, size and scale factor", "[onnx-ort]") {
  expect_matches_ort(
      "def forward(self, x):\n"
      "  h = x.size(2)\n"
      "  return (torch.upsample_bilinear2d(x, None, False, [2.0, 2.0]),\n"
      "          torch.upsample_bilinear2d(x, None, True, [2.0, 2.0]),\n"
      "          torch.upsample_bilinear2d(x, [h * 3 - 2, 5], False, None),\n"
      "          torch.upsample_bilinear2d(x, [h + 1, 5], True, None),\n"
      "          torch.upsample_bilinear2d(x, None, False, [0.5, 0.5]),\n"
      "          torch.upsample_bilinear2d(x, [1, 1], False, None),\n"
      "          torch.upsample_bilinear2d(x, [1, 2], True, None),\n"
      "          torch.upsample_bicubic2d(x, None, False, [2.0, 2.0]),\n"
      "          torch.upsample_bicubic2d(x, [h * 2 + 1, 9], True, None),\n"
      "          torch.upsample_bicubic2d(x, None, False, [1.5, 1.5]),\n"
      "          torch.upsample_bilinear2d(x, [int(h * 1.5), 15], False, None))",
      {"x:batch=2x3xh=4x6"}, {5, 9}, {{edge_values({2, 3, 4, 6})}});
}

TEST_CASE("onnx resize: 1-D (linear, nearest) and 3-D (trilinear, nearest)", "[onnx-ort]") {
  expect_matches_ort(
      "def forward(self, x, v):\n"
      "  return (torch.upsample_linear1d(x, None, False, [2.0]),\n"
      "          torch.upsample_linear1d(x, [x.size(2) * 3], True, None),\n"
      "          torch.upsample_nearest1d(x, [5], None),\n"
      "          torch.upsample_trilinear3d(v, None, False, [2.0, 2.0, 2.0]),\n"
      "          torch.upsample_trilinear3d(v, [3, 5, 4], True, None),\n"
      "          torch.upsample_nearest3d(v, None, [1.0, 2.0, 0.5]))",
      {"x:batch=2x3xl=7", "v:batch=1x2x2x3x4"}, {3});
}

TEST_CASE("onnx resize: an upsampling decoder with dynamic height and width", "[onnx-ort]") {
  auto w = torch::randn({4, 2, 3, 3});
  expect_matches_ort(
      "def forward(self, x):\n"
      "  y = torch.conv2d(x, self.w, None, 1, 1)\n"
      "  up = torch.upsample_nearest2d(y, None, [2.0, 2.0])\n"
      "  up2 = torch.upsample_bilinear2d(y, [x.size(2), x.size(3)], False, None)\n"
      "  return up.sum(1), up2 + y",
      {"x:batch=1x2xh=8xw=8"}, {6, 11}, {}, {{"w", w}});
}
