// One numeric test per converter family: a tiny TorchScript module, exported
// and run in ONNX Runtime, against LibTorch; edge cases included (negative
// dims, keepdim, strides, padding modes, broadcasting, dynamic sizes).
#include <catch2/catch.hpp>

#include "onnx/ort_oracle.h"

using mlopt::test::compare_with_ort;
using mlopt::test::make_module;

namespace {

constexpr double kTolerance = 1e-4;

mlopt::test::OrtComparison check_op(const std::string& body, const std::vector<std::string>& specs,
                                    const std::map<std::string, at::Tensor>& params = {},
                                    std::vector<int64_t> sizes = {}) {
  auto m = make_module(body, params);
  auto r = compare_with_ort(m, specs, sizes);
  REQUIRE(r.max_rel_error.size() == 1 + sizes.size());
  for (double e : r.max_rel_error) CHECK(e < kTolerance);
  return r;
}

}  // namespace

TEST_CASE("onnx op: elementwise arithmetic with broadcasting and scalars", "[onnx-ort]") {
  check_op("def forward(self, x, y):\n  return (x + y * 2.0 - 1, x / (y.abs() + 1.0), torch.pow(x, 2), 3 - x, x.clamp(-0.5, 0.5))",
           {"x:2x3x4", "y:3x1"});
  check_op("def forward(self, x, y):\n  return (torch.maximum(x, y), torch.where(x > y, x, y), (x >= 0) & (y < 0.5), x.neg().exp().sqrt())",
           {"x:2x3", "y:2x3"});
}

TEST_CASE("onnx op: activations", "[onnx-ort]") {
  check_op(
      "def forward(self, x):\n"
      "  return (torch.relu(x), torch.hardtanh(x * 4, 0.0, 6.0), torch.hardswish(x * 4),\n"
      "          torch.hardsigmoid(x * 4), torch.silu(x), torch.sigmoid(x), torch.tanh(x),\n"
      "          torch.gelu(x), torch.gelu(x, approximate='tanh'),\n"
      "          torch.leaky_relu(x, 0.2), torch.elu(x), torch.softmax(x, -1),\n"
      "          torch.log_softmax(x, 1), torch.softplus(x), torch.hardtanh(x, -0.3, 0.3))",
      {"x:batch=2x8"}, {}, {3});
}

TEST_CASE("onnx op: convolution variants (stride, dilation, groups, padding modes, transposed)", "[onnx-ort]") {
  auto w = torch::randn({8, 4, 3, 3});
  auto dw = torch::randn({4, 1, 3, 3});
  auto b = torch::randn({8});
  auto wt = torch::randn({4, 6, 3, 3});
  check_op(
      "def forward(self, x):\n"
      "  a = torch.conv2d(x, self.w, self.b, [2, 1], [1, 0], [1, 2], 1)\n"
      "  d = torch.conv2d(x, self.dw, None, 1, 1, 1, 4)\n"
      "  s = torch.conv2d(x, self.w, None, 1, 'same')\n"
      "  r = torch.reflection_pad2d(x, [1, 2, 0, 1])\n"
      "  e = torch.replication_pad2d(x, [1, 1, 2, 0])\n"
      "  c = torch.constant_pad_nd(x, [1, 1], 0.5)\n"
      "  t = torch.conv_transpose2d(x, self.wt, None, 2, 1, 1)\n"
      "  return a, d, s, r, e, c, t",
      {"x:batch=1x4x9x10"}, {{"w", w}, {"b", b}, {"dw", dw}, {"wt", wt}}, {2});
}

TEST_CASE("onnx op: pooling (ceil_mode, padding, count_include_pad, adaptive)", "[onnx-ort]") {
  check_op(
      "def forward(self, x):\n"
      "  return (torch.max_pool2d(x, 3, 2, 1, 1, True), torch.avg_pool2d(x, 3, 2, 1, False, False),\n"
      "          torch.avg_pool2d(x, 2), torch.adaptive_avg_pool2d(x, [1, 1]),\n"
      "          torch.adaptive_avg_pool2d(x, [2, 4]))",
      {"x:batch=2x3x8x8"}, {}, {1});
}

TEST_CASE("onnx op: reductions with negative dims and keepdim", "[onnx-ort]") {
  check_op(
      "def forward(self, x):\n"
      "  m, i = torch.max(x, -1, True)\n"
      "  return (x.sum(), x.sum([0, -1]), x.mean(1, True), torch.amax(x, [-2]), m, i, torch.argmax(x, 1),\n"
      "          x.var(-1), x.std(1, False, True), torch.min(x), torch.cumsum(x, -1))",
      {"x:2x3x4"});
}

TEST_CASE("onnx op: shape ops with dynamic sizes", "[onnx-ort]") {
  check_op(
      "def forward(self, x):\n"
      "  b = x.size(0)\n"
      "  y = x.view(b, -1)\n"
      "  z = x.reshape(-1, x.size(2))\n"
      "  f = torch.flatten(x, 1, 2)\n"
      "  p = x.permute(0, 2, 1).transpose(-1, -2)\n"
      "  u = x.unsqueeze(-1).squeeze(-1).squeeze(1)\n"
      "  e = x[:, :1].expand(b, 3, 4)\n"
      "  s = x[:, 1:, ::2]\n"
      "  n = x.narrow(2, 1, 2)\n"
      "  sel = x.select(1, -1)\n"
      "  c = torch.cat([x, x * 2], -1)\n"
      "  st = torch.stack([x, x], 1)\n"
      "  a, bb = x.chunk(2, -1)\n"
      "  parts = x.split([1, 2], 1)\n"
      "  r = x.repeat(1, 2, 1)\n"
      "  return y, z, f, p, u, e, s, n, sel, c, st, a, bb, parts[1], r, x * (x.size(0) * 2 + x.size(1))",
      {"x:batch=2x3x4"}, {}, {5});
}

TEST_CASE("onnx op: linear, matmul, bmm, addmm, layer norm, group norm, batch norm", "[onnx-ort]") {
  auto w = torch::randn({5, 4});
  auto b = torch::randn({5});
  auto g = torch::randn({4});
  auto mean = torch::randn({4}), var = torch::rand({4}) + 0.5;
  check_op(
      "def forward(self, x, y):\n"
      "  l2 = torch.linear(x[0], self.w, self.b)\n"
      "  l3 = torch.linear(x, self.w, self.b)\n"
      "  mm = torch.matmul(x, y)\n"
      "  bm = torch.bmm(x, y)\n"
      "  am = torch.addmm(self.b, x[0], self.w.t(), beta=0.5, alpha=2.0)\n"
      "  ln = torch.layer_norm(x, [4], self.g, self.g, 1e-5)\n"
      "  gn = torch.group_norm(x.unsqueeze(-1), 1, None, None, 1e-5)\n"
      "  bn = torch.batch_norm(x.transpose(1, 2), self.g, self.g, self.mean, self.var, False, 0.1, 1e-5, False)\n"
      "  return l2, l3, mm, bm, am, ln, gn, bn",
      {"x:2x3x4", "y:2x4x3"}, {{"w", w}, {"b", b}, {"g", g}, {"mean", mean}, {"var", var}});
}

TEST_CASE("onnx op: indexing, embedding, masked_fill, creation ops", "[onnx-ort]") {
  auto table = torch::randn({10, 4});
  check_op(
      "def forward(self, x, idx):\n"
      "  e = torch.embedding(self.table, idx)\n"
      "  g = torch.index_select(x, 1, idx[0])\n"
      "  m = x.masked_fill(x > 0.5, -1.0)\n"
      "  z = torch.zeros([x.size(0), 2]) + torch.ones_like(x)[:, :2]\n"
      "  a = torch.arange(x.size(1)) * 2\n"
      "  return e, g, m, z, a, x[:, idx[0]]",
      {"x:batch=2x5", "idx:2x3:int64:0..5"}, {{"table", table}}, {4});
}

TEST_CASE("onnx op: in-place ops and integer arithmetic on sizes", "[onnx-ort]") {
  check_op(
      "def forward(self, x):\n"
      "  y = x.clone()\n"
      "  y.add_(1.0)\n"
      "  y.relu_()\n"
      "  n = x.size(0) // 2 + x.size(0) % 2\n"
      "  return y, y[:n], float(x.size(1)) / 3.0 * x",
      {"x:batch=3x4"}, {}, {6});
}

TEST_CASE("onnx op: topk and sort and argsort and nonzero and where(cond) and boolean-mask indexing", "[onnx-ort]") {
  auto ties = torch::tensor({0.5f, -1.0f, 0.5f, 2.0f, -1.0f, 0.5f, 0.0f, 2.0f});
  auto negative = -torch::rand({8}) - 0.1;
  auto x = torch::randn({6, 4});
  mlopt::test::expect_matches_ort(
      "def forward(self, x, y):\n"
      "  v, i = torch.topk(x, 3, 1)\n"
      "  k = min(5, y.size(0))\n"
      // (no ties for topk: it keeps no order among them)
      "  w, j = torch.topk(y * 1.5 + torch.arange(y.size(0)).float() * 0.001, k, 0, False)\n"
      "  s, si = torch.sort(y, stable=True, descending=True)\n"
      "  t, ti = torch.sort(y, stable=True)\n"
      "  a = torch.argsort(x, 0)\n"
      "  sel = y[y > 0.0]\n"
      "  rows = x[x[:, 0] > 0.0]\n"
      "  elems = x[x > 0.5]\n"
      "  nz = torch.nonzero(x > 0.5)\n"
      "  idx = torch.where(y > 0.0)[0]\n"
      "  return v, i, w, j, s, si, t, ti, a, sel, rows, elems, nz, idx\n",
      {"x:6x4", "y:m=8"}, {3}, {{x, ties}, {x, negative}});
}

TEST_CASE("onnx op: index_put of rows (integer or mask indices and broadcast values and accumulate) and indexing by two index tensors and log2",
          "[onnx-ort]") {
  mlopt::test::expect_matches_ort(
      "def forward(self, x, y):\n"
      "  r = torch.zeros(6, 4)\n"
      "  idx = torch.where(y > 0.0)[0]\n"
      "  r[idx] = x[idx] * 2.0\n"
      "  m = x[:, 0] > 0.0\n"
      "  r[m] = 7.0\n"
      "  a = torch.ones(6, 4).index_put([torch.tensor([0, 2, 2])], x[0:3], True)\n"
      "  g = x[torch.arange(2)[:, None], torch.topk(x[0:2], 2, 1)[1]]\n"
      "  return r, a, torch.log2(x.abs() + 0.5), g\n",
      {"x:6x4", "y:6"});
}
