// In-place ops on slices and selects write into the tensor they view
// (onnx/view_mutation.h): MViT's `attn[:, :, 1:, 1:] += rel_pos` exported as a
// functional add that dropped the write, silently (relative error 0.37 in
// ONNX Runtime). Each form against ONNX Runtime at two batch sizes, and the
// views the write-back cannot follow refused with the op named.
#include <catch2/catch.hpp>

#include "mlopt/onnx/lowering.h"
#include "onnx/ort_oracle.h"

using mlopt::test::expect_matches_ort;
using mlopt::test::make_module;

TEST_CASE("onnx export: in-place ops on slices write into the tensor they view", "[onnx-ort]") {
  // MViT's relative-position add: a slice of every dim, then the whole tensor read.
  expect_matches_ort(
      "def forward(self, x):\n"
      "  a = torch.matmul(x, x.transpose(2, 3))\n"
      "  r = a[:, :, 1:, 1:] * 0.5\n"
      "  a[:, :, 1:, 1:] += r\n"
      "  return a.softmax(-1)",
      {"x:batch=1x2x5x4"}, {3});
  // Negative bounds, a step, select, sub_/mul_/div_, and a view read after the write.
  expect_matches_ort(
      "def forward(self, x, y):\n"
      "  a = x * 2.0\n"
      "  a[:, -3:-1] -= y[:, :2]\n"
      "  a[:, ::2] *= 3.0\n"
      "  a[:, 0] /= 4.0\n"
      "  v = a[:, 1:]\n"
      "  v.mul_(0.5)\n"
      "  return a, v",
      {"x:batch=2x6", "y:batch=2x6"}, {3});
  // Slice assignment (copy_) with broadcasting and a dtype change, select of a select, relu_ on a slice.
  expect_matches_ort(
      "def forward(self, x, y):\n"
      "  a = x.clone()\n"
      "  a[:, 1:3] = y[:, :1]\n"
      "  a[0, 0] = 7.0\n"
      "  a[:, 3][1] = -1.0\n"
      "  a[:, 4:].relu_()\n"
      "  b = torch.zeros([x.size(0), 3])\n"
      "  b[:, 1] = (x[:, 0] > 0).float()\n"
      "  return a, b",
      {"x:batch=2x6", "y:batch=2x6"}, {3});
}

TEST_CASE("onnx export: a loop writes into slices of a tensor made before it (torchvision's batch_images)",
          "[onnx-ort]") {
  // A known trip count over a list of images: unrolled, each copy_ written back.
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  images = [im for im in x.unbind(0)]\n"
      "  batched = x.new_full([len(images), 3, 8, 8], 0.0)\n"
      "  for i in range(batched.shape[0]):\n"
      "    img = images[i]\n"
      "    batched[i, : img.shape[0], : img.shape[1], : img.shape[2]].copy_(img)\n"
      "  return batched",
      {"x:2x3x5x6"});
  CHECK(r.ops.count("Loop") == 0);
  // A trip count known only at run time: an ONNX Loop carrying the tensor.
  auto loop = expect_matches_ort(
      "def forward(self, x):\n"
      "  out = torch.zeros([x.size(0), 4, 6])\n"
      "  for i in range(x.size(0)):\n"
      "    out[i, :, :2] = x[i, :, :2] * 2.0\n"
      "    out[i, 1:3, 3:] += x[i, 1:3, 3:]\n"
      "  return out, out.sum()",
      {"x:batch=2x4x6"}, {3});
  CHECK(loop.ops["Loop"] == 1);
}

TEST_CASE("onnx export: in-place ops on views the write-back cannot follow are refused, naming the op",
          "[onnx-ort]") {
  // A transposed view written in place while the base is read afterwards.
  auto transposed = make_module(
      "def forward(self, x):\n"
      "  a = x * 2.0\n"
      "  t = a.transpose(0, 1)\n"
      "  t.add_(1.0)\n"
      "  return a");
  CHECK_THROWS_WITH(mlopt::onnx_export::lower_for_export(transposed),
                    Catch::Contains("aten::add_ writes into the result of aten::transpose") &&
                        Catch::Contains("out of place"));
  // Nobody reads the base again: the in-place op on the view alone is exact and exported.
  expect_matches_ort(
      "def forward(self, x):\n"
      "  t = (x * 2.0).transpose(0, 1)\n"
      "  t.add_(1.0)\n"
      "  return t",
      {"x:3x4"});
}
