// trace_module on scripted fixtures: the traced graph reproduces PyTorch
// eager's outputs, reads weights as attributes and follows the batch size.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/capture/trace_module.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

int count_nodes(const torch::jit::Graph& graph, const char* kind) {
  int n = 0;
  for (const auto* node : graph.nodes()) n += node->kind().toQualString() == std::string(kind);
  return n;
}

}  // namespace

TEST_CASE("trace_module: a traced CNN matches PyTorch eager and keeps its weights as attributes", "[trace]") {
  auto source = load_torchscript(test::test_data("trace/cnn.pt"));
  auto expected = load_tensors(test::test_data("trace/cnn_expected.npz"));  // x, y
  auto traced = trace_module(source, {expected[0].second});
  auto graph = traced.get_method("forward").graph();
  UNSCOPED_INFO(*graph);
  CHECK(count_nodes(*graph, "prim::If") == 0);
  CHECK(count_nodes(*graph, "prim::CallMethod") == 0);
  CHECK(count_nodes(*graph, "aten::_convolution") + count_nodes(*graph, "aten::conv2d") == 1);
  CHECK(count_nodes(*graph, "prim::GetAttr") >= 6);  // conv, bn and fc tensors are attribute reads
  CHECK(parameter_count(traced) == parameter_count(source));
  auto got = run_module(traced, {expected[0].second});
  REQUIRE(got.size() == 1);
  CHECK(torch::allclose(got[0], expected[1].second, 1e-4, 1e-5));
  // Another batch size: flatten(x, 1) keeps the batch dim symbolic.
  auto x5 = torch::randn({5, 3, 8, 8});
  CHECK(torch::allclose(run_module(traced, {x5})[0], run_module(source, {x5})[0], 1e-4, 1e-5));
  // The weights are the traced module's own copies.
  for (auto p : source.parameters()) p.detach().zero_();
  CHECK(torch::allclose(run_module(traced, {expected[0].second})[0], expected[1].second, 1e-4, 1e-5));
}
