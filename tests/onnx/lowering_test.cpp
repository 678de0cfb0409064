// lower_for_export (lib/mlopt/onnx/lowering.cpp): the graph the converters see
// has BatchNorm folded and dropout gone, and computes what the module does.
#include <catch2/catch.hpp>

#include "mlopt/core/model_io.h"
#include "mlopt/onnx/lowering.h"
#include "mlopt/onnx/shape_probe.h"
#include "support/test_support.h"

using mlopt::test::test_data;

TEST_CASE("onnx lowering: BatchNorm folds into conv and linear, outputs unchanged", "[onnx]") {
  auto module = mlopt::load_torchscript(test_data("onnx/resnet_tiny.pt"));
  auto graph = mlopt::onnx_export::lower_for_export(module);
  int bn = 0, dropout = 0;
  for (auto* n : graph->nodes()) {
    bn += n->kind() == c10::aten::batch_norm;
    dropout += n->kind() == c10::aten::dropout;
  }
  CHECK(bn == 0);
  CHECK(dropout == 0);
  auto x = torch::randn({2, 3, 32, 32});
  auto want = mlopt::run_module(module, {x});
  auto got = mlopt::onnx_export::run_graph(*graph, {c10::IValue(), x});
  CHECK(torch::allclose(got[0].toTensor(), want[0], 1e-4, 1e-5));
}

TEST_CASE("onnx lowering: linear + BatchNorm1d folds", "[onnx]") {
  torch::jit::Module m("m");
  m.register_parameter("w", torch::randn({6, 4}), false);
  m.register_parameter("b", torch::randn({6}), false);
  m.register_parameter("g", torch::randn({6}), false);
  m.register_parameter("beta", torch::randn({6}), false);
  m.register_buffer("mean", torch::randn({6}));
  m.register_buffer("var", torch::rand({6}) + 0.5);
  m.define(
      "def forward(self, x):\n"
      "  y = torch.linear(x, self.w, self.b)\n"
      "  return torch.batch_norm(y, self.g, self.beta, self.mean, self.var, False, 0.1, 1e-5, False)\n");
  m.eval();
  auto graph = mlopt::onnx_export::lower_for_export(m);
  int bn = 0;
  for (auto* n : graph->nodes()) bn += n->kind() == c10::aten::batch_norm;
  CHECK(bn == 0);
  auto x = torch::randn({3, 4});
  auto want = mlopt::run_module(m, {x});
  auto got = mlopt::onnx_export::run_graph(*graph, {c10::IValue(), x});
  CHECK(torch::allclose(got[0].toTensor(), want[0], 1e-4, 1e-5));
}
