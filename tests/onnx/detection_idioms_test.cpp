// What torchvision's detection models do around their networks, as small
// graphs against ONNX Runtime: anchor grids (meshgrid in both indexings, a
// tuple of tensors repeated, repeat by a count known at run time), Python list
// arithmetic and item assignment on lists with run-time items, dict(pairs)
// (SSDlite's OrderedDict of feature maps), a module attribute that forward
// writes (SSD's warn-once flag), and a list filled per detection by a loop
// whose length is known only at run time (Mask R-CNN's mask pasting).
#include <catch2/catch.hpp>

#include "mlopt/onnx/export.h"
#include "onnx/ort_oracle.h"

using mlopt::test::compare_with_ort;
using mlopt::test::expect_matches_ort;
using mlopt::test::make_module;

TEST_CASE("onnx export: anchor grids (meshgrid ij and xy, repeated tuples, repeat by run-time counts)", "[onnx-ort]") {
  expect_matches_ort(
      "def forward(self, x):\n"
      "  a = torch.arange(x.size(0)).float() + 0.5\n"
      "  b = torch.arange(x.size(1)).float() * 0.25\n"
      "  gy, gx = torch.meshgrid(a, b, indexing='ij')\n"
      "  hy, hx = torch.meshgrid(a, b, indexing='xy')\n"
      "  c, = torch.meshgrid([b], indexing='ij')\n"
      "  shifts = torch.stack((gx.reshape(-1), gy.reshape(-1)) * 3, dim=-1).reshape(-1, 2)\n"
      "  wh = x[:1, :2].repeat(x.size(0) * x.size(1), 1)\n"
      "  return gy, gx, hy, hx, c, torch.cat((shifts[: wh.size(0)], wh), 1)",
      {"x:rows=3xcols=4"}, {5});
}

TEST_CASE("onnx export: list arithmetic and item assignment on lists known only at run time", "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  parts = [x[0]] + [x[-1]]\n"
      "  joined = torch.stack(parts + [x[0] * 2.0] * 2, 0)\n"
      "  size = list(x.shape)\n"
      "  grown = list(size)\n"
      "  grown[1] = size[1] * 2\n"
      "  grown[-1] = 1\n"
      "  return joined, x.new_zeros(grown) + 1.0, x.new_zeros(size) - 1.0",
      {"x:batch=2x3x4"}, {5});
  CHECK(r.model.graph().output_size() == 3);
}

TEST_CASE("onnx export: dict(pairs) keeps its keys in order", "[onnx-ort]") {
  expect_matches_ort(
      "def forward(self, x):\n"
      "  outs = [x * 2.0, x + 1.0, x.relu()]\n"
      "  pairs: List[Tuple[str, Tensor]] = []\n"
      "  for i in range(len(outs)):\n"
      "    pairs.append((str(i), outs[i]))\n"
      "  d = dict(pairs)\n"
      "  d['1'] = d['1'] - 3.0\n"
      "  return [v for v in d.values()]",
      {"x:batch=2x3"}, {4});
}

TEST_CASE("onnx export: a module attribute written in forward is read at its export-time value", "[onnx-ort]") {
  // SSD: `if not self._has_warned: warn(...); self._has_warned = True` (the
  // warning needs Python's `warnings`, which a module defined here cannot see).
  torch::jit::Module m("m");
  m.register_attribute("_has_warned", c10::BoolType::get(), false);
  m.register_attribute("calls", c10::IntType::get(), int64_t{4});
  m.define(
      "def forward(self, x):\n"
      "  if not self._has_warned:\n"
      "    self._has_warned = True\n"
      "  self.calls = self.calls + 1\n"
      "  return x * float(self.calls)\n");
  m.eval();
  // One run: LibTorch's forward (the reference) counts the call, as the
  // exported graph does once from the value at export time (4 + 1).
  auto r = compare_with_ort(m, {"x:batch=2x3"});
  REQUIRE(r.max_rel_error.size() == 1);
  CHECK(r.max_rel_error[0] < 1e-5);
  // Exporting (the shape probes run forward) left the module as it was: only
  // the reference run counted.
  CHECK(m.attr("calls").toInt() == 5);
  CHECK(m.attr("_has_warned").toBool());
}

TEST_CASE("onnx export: a list filled by a loop of run-time length becomes a Loop's scan output", "[onnx-ort]") {
  // Rows kept by a data-dependent mask, one result per kept row, stacked,
  // measured and indexed; an empty selection takes the other branch.
  auto x = torch::randn({6, 4});
  x.select(1, 0).copy_(torch::tensor({1.0f, -1.0f, 2.0f, 0.5f, -3.0f, 1.5f}));
  auto none = -torch::rand({6, 4}) - 0.1;
  auto r = expect_matches_ort(
      "def forward(self, x):\n"
      "  keep = torch.nonzero(x[:, 0] > 0).squeeze(1)\n"
      "  boxes = x[keep]\n"
      "  res = [b * 2.0 + float(b.size(0)) for b in boxes]\n"
      "  if len(res) > 0:\n"
      "    out = torch.stack(res, 0)\n"
      "    first = res[0] + torch.stack(res, 1).sum()\n"
      "  else:\n"
      "    out = x.new_zeros([0, 4])\n"
      "    first = x.new_zeros([4])\n"
      "  return out, first, x.new_full([1], float(len(res)))",
      {"x:rows=6x4"}, {9}, {{x}, {none}});
  CHECK(r.ops["Loop"] == 1);
}
