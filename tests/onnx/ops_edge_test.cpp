// Ops whose exported results used to differ from LibTorch's (rounding modes,
// tensor bounds, corrections, zeros, dims known only at run time, float
// ranges) and ops added for real models (tensor_split, ...): each against ONNX
// Runtime with edge values (zeros, negatives, NaN/Inf where defined, empty
// pieces) and dynamic sizes.
#include <catch2/catch.hpp>

#include <limits>

#include "onnx/ort_oracle.h"

using mlopt::test::expect_matches_ort;

namespace {

using mlopt::test::kInf;
using mlopt::test::kNaN;

at::Tensor floats(std::vector<float> v, std::vector<int64_t> shape) {
  return torch::tensor(v, at::kFloat).reshape(shape);
}

}  // namespace

TEST_CASE("onnx op: div with rounding_mode trunc and floor (floats from the exact remainder, integers)",
          "[onnx-ort]") {
  // 1 / 0.1 rounds to 10.0 but floors to 9 (PyTorch works from fmod); -7 / 2 floors to -4, truncates to -3.
  auto a = floats({1.0f, -7.0f, 7.0f, -0.5f, 0.0f, 3.0f, kNaN, kInf, -kInf, 5.0f, -1.0f, 0.3f}, {2, 6});
  auto b = floats({0.1f, 2.0f, -2.0f, 3.0f, 0.0f, 0.0f, 1.0f, 2.0f, 3.0f, kInf, -0.1f, 0.1f}, {2, 6});
  expect_matches_ort(
      "def forward(self, a, b):\n"
      "  return (torch.div(a, b, rounding_mode='floor'), torch.div(a, b, rounding_mode='trunc'),\n"
      "          torch.floor_divide(a, b), a // 0.1, torch.div(a, 2.5, rounding_mode='floor'))",
      {"a:batch=2x6", "b:batch=2x6"}, {3}, {{a, b}});
  auto i = torch::tensor({-7, 7, -7, 7, 0, -1, 6, -6}, at::kLong).reshape({2, 4});
  auto j = torch::tensor({2, -2, -2, 2, 3, 4, -4, 3}, at::kLong).reshape({2, 4});
  expect_matches_ort(
      "def forward(self, i, j):\n"
      "  return (torch.div(i, j, rounding_mode='floor'), torch.div(i, j, rounding_mode='trunc'),\n"
      "          torch.floor_divide(i, j), torch.div(i, j), torch.trunc(i.float() / 3.0))",
      {"i:batch=2x4:int64:-9..9", "j:batch=2x4:int64:1..5"}, {3}, {{i, j}});
}

TEST_CASE("onnx op: clamp with tensor bounds (broadcast, min above max, NaN input)", "[onnx-ort]") {
  auto x = floats({-2.0f, -0.5f, 0.0f, 0.5f, 2.0f, kNaN, kInf, -kInf}, {2, 4});
  auto lo = floats({-1.0f, 0.2f, 0.0f, 1.0f}, {1, 4});
  auto hi = floats({1.0f, 0.1f}, {2, 1});
  expect_matches_ort(
      "def forward(self, x, lo, hi):\n"
      "  return (torch.clamp(x, lo, hi), torch.clamp(x, min=lo), torch.clamp(x, max=hi),\n"
      "          x.clamp_min(lo), x.clamp_max(hi), torch.clamp(x, lo.min(), hi.max()), x.clamp(-0.5, 0.5))",
      {"x:batch=2x4", "lo:1x4", "hi:batch=2x1"}, {3}, {{x, lo, hi}});
}

TEST_CASE("onnx op: var and std with unbiased, correction, keepdim, dynamic dims, var_mean/std_mean", "[onnx-ort]") {
  expect_matches_ort(
      "def forward(self, x):\n"
      "  return (x.var(), x.var(False), x.std(1), x.std(1, False, True),\n"
      "          torch.var(x, [0, 2], correction=2), torch.std(x, -1, correction=0, keepdim=True),\n"
      "          torch.var(x, 1, correction=3),\n"
      "          torch.var_mean(x, [0, 2], correction=2, keepdim=True), torch.std_mean(x, 1),\n"
      "          torch.var_mean(x, False), torch.std(x[:, :1], 1))",  // one element, correction 1: NaN
      {"x:batch=2x3xn=4"}, {5});
}

TEST_CASE("onnx op: rsqrt at 0 and -0, of integers, trunc", "[onnx-ort]") {
  auto x = floats({0.0f, -0.0f, 1.0f, 4.0f, -1.0f, kInf, kNaN, 1e-30f}, {2, 4});
  auto i = torch::tensor({0, 1, 4, 9}, at::kLong).reshape({2, 2});
  expect_matches_ort(
      "def forward(self, x, i):\n"
      "  return torch.rsqrt(x), torch.rsqrt(i), torch.trunc(x * 2.5), torch.rsqrt(x.abs() + 1.0)",
      {"x:batch=2x4", "i:2x2:int64:0..9"}, {3}, {{x, i}});
}

TEST_CASE("onnx op: squeeze of a dim whose size is known only at run time", "[onnx-ort]") {
  // Example batch 1: squeezed; batch 4: kept, as in PyTorch.
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  return x.squeeze(0) * 2.0, x.squeeze(), x.squeeze(2) + 1.0",
      {"x:batch=1x3x1"}, {4});
  CHECK(r.ops["If"] == 1);
}

TEST_CASE("onnx op: arange with float arguments and sizes from the input", "[onnx-ort]") {
  // dtype=6: torch.float32 (C++ TorchScript has no torch.float32 name).
  expect_matches_ort(
      "def forward(self, x):\n"
      "  n = x.size(1)\n"
      "  return (torch.arange(0.0, float(n), 0.1), torch.arange(n, dtype=6) * x[0],\n"
      "          torch.arange(-1.5, float(n), 0.7), torch.arange(1, n + 1) * 2, torch.arange(float(n), 0.0, -0.3))",
      {"x:2xn=10"}, {33});
}

TEST_CASE("onnx op: tensor_split by sections and by indices (static and dynamic dim, empty pieces)", "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  a = torch.tensor_split(x, 3, 1)\n"
      "  b = torch.tensor_split(x, [1, 4, -1, 2], 1)\n"
      "  c = torch.tensor_split(x, 4, 0)\n"
      "  d = x.tensor_split(torch.tensor([2, 9]), -1)\n"
      "  e = x.tensor_split(torch.tensor(2), 2)\n"
      "  return a[0], a[1], a[2], b[0], b[1], b[2], b[3], b[4], c[0] * 2.0, c[3], d[0], d[1], d[2], e[0], e[1]",
      {"x:batch=2x7x5"}, {5});
  CHECK(r.ops.count("Split") == 0);
}

TEST_CASE("onnx op: nan_to_num, roll, repeat_interleave, diagonal, broadcast_tensors", "[onnx-ort]") {
  auto x = floats({kNaN, kInf, -kInf, 0.0f, -1.0f, 2.0f, 3.0f, -0.0f, 1e30f, -5.0f, 7.0f, 0.5f}, {2, 6});
  expect_matches_ort(
      "def forward(self, x, y):\n"
      "  return (torch.nan_to_num(x), torch.nan_to_num(x, 1.0, 2.0, -3.0), torch.nan_to_num(x, posinf=9.0),\n"
      "          torch.roll(x, 2, 1), torch.roll(x, [-1, 7], [0, 1]), torch.roll(x, 5),\n"
      "          x.repeat_interleave(2, 1), x.repeat_interleave(3), x.repeat_interleave(torch.tensor([1, 0, 2, 1, 3, 1]), 1),\n"
      "          torch.diagonal(y), torch.diagonal(y, 1), torch.diagonal(y, -1), y.unsqueeze(0).diagonal(2, 1, 2),\n"
      "          torch.diagonal(y, 9),\n"
      "          torch.broadcast_tensors([x[:, :1], x[:1], x])[1])",
      {"x:batch=2x6", "y:3x5"}, {5}, {{x, torch::randn({3, 5})}});
}

TEST_CASE("onnx op: instance_norm (input statistics and running statistics) and nn.RNN tanh/relu", "[onnx-ort]") {
  auto w = torch::rand({3}) + 0.5, b = torch::randn({3});
  auto mean = torch::randn({3}), var = torch::rand({3}) + 0.5;
  expect_matches_ort(
      "def forward(self, x):\n"
      "  return (torch.instance_norm(x, self.w, self.b, None, None, True, 0.1, 1e-5, False),\n"
      "          torch.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False),\n"
      "          torch.instance_norm(x, self.w, self.b, self.mean, self.var, False, 0.1, 1e-5, False))",
      {"x:batch=2x3x5x4"}, {3}, {}, {{"w", w}, {"b", b}, {"mean", mean}, {"var", var}});
  auto w_ih = torch::randn({6, 4}) * 0.5, w_hh = torch::randn({6, 6}) * 0.5, b_ih = torch::randn({6}), b_hh = torch::randn({6});
  auto w_ih1 = torch::randn({6, 12}) * 0.3;
  expect_matches_ort(
      "def forward(self, x, h):\n"
      "  y, hn = torch.rnn_tanh(x, h, [self.w_ih, self.w_hh, self.b_ih, self.b_hh, self.w_ih, self.w_hh, self.b_ih,\n"
      "                                self.b_hh, self.w_ih1, self.w_hh, self.b_ih, self.b_hh, self.w_ih1, self.w_hh,\n"
      "                                self.b_ih, self.b_hh], True, 2, 0.0, False, True, True)\n"
      "  z, zn = torch.rnn_relu(x, h[:1], [self.w_ih, self.w_hh], False, 1, 0.0, False, False, True)\n"
      "  return y, hn, z, zn",
      {"x:batch=2xseq=5x4", "h:4xbatch=2x6"}, {3}, {},
      {{"w_ih", w_ih}, {"w_hh", w_hh}, {"b_ih", b_ih}, {"b_hh", b_hh}, {"w_ih1", w_ih1}});
}
