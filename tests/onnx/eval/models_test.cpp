// The evaluator on graphs exported by torch.onnx (tests/fixtures/make_verify_fixtures.py),
// against PyTorch eager outputs stored beside them.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

void check_against_eager(const std::string& name, double atol = 1e-5) {
  INFO(name);
  auto ev = onnx_eval::Evaluator::load(test::test_data("verify/" + name + ".onnx"));
  auto io = load_tensors(test::test_data("verify/" + name + "_io.npz"));
  std::vector<at::Tensor> inputs;
  for (const auto& input : ev.input_names())
    for (const auto& [k, v] : io)
      if (k == input) inputs.push_back(v);
  REQUIRE(inputs.size() == ev.input_names().size());
  auto outputs = ev.run(inputs);
  auto names = ev.output_names();
  REQUIRE(outputs.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    INFO(names[i]);
    at::Tensor expected;
    for (const auto& [k, v] : io)
      if (k == "out_" + names[i]) expected = v;
    REQUIRE(expected.defined());
    REQUIRE(outputs[i].sizes() == expected.sizes());
    CHECK(torch::allclose(outputs[i].to(at::kDouble), expected.to(at::kDouble), 1e-4, atol));
  }
}

}  // namespace

TEST_CASE("onnx eval: MLP (Gemm, Relu, LogSoftmax) matches PyTorch eager", "[onnx-eval]") { check_against_eager("mlp"); }

TEST_CASE("onnx eval: CNN (Conv, BatchNorm, HardSwish, pools, Flatten, Softmax) matches eager", "[onnx-eval]") {
  check_against_eager("cnn");
}

TEST_CASE("onnx eval: bidirectional LSTM and GRU match eager", "[onnx-eval]") { check_against_eager("recurrent"); }

TEST_CASE("onnx eval: LayerNormalization, MatMul attention, Trilu/Where masks, Erf GELU match eager", "[onnx-eval]") {
  check_against_eager("attention");
}

TEST_CASE("onnx eval: shape ops (Reshape, Transpose, Concat, Slice, Pad, Split, Expand) match eager", "[onnx-eval]") {
  check_against_eager("shape_ops");
}

TEST_CASE("onnx eval: Resize nearest / bilinear / align_corners match eager", "[onnx-eval]") {
  check_against_eager("upsample");
}

TEST_CASE("onnx eval: dynamic batch dims are declared and run at other sizes", "[onnx-eval]") {
  auto ev = onnx_eval::Evaluator::load(test::test_data("verify/mlp.onnx"));
  auto specs = ev.input_specs();
  REQUIRE(specs.size() == 1);
  CHECK(specs[0].dims[0].dynamic());
  CHECK(specs[0].dims[1].size == 16);
  CHECK(ev.run({torch::randn({7, 16})})[0].sizes() == at::IntArrayRef({7, 4}));
  auto frozen = onnx_eval::Evaluator::load(test::test_data("verify/mlp_frozen.onnx"));
  CHECK_FALSE(frozen.input_specs()[0].dims[0].dynamic());
  CHECK_THROWS_WITH(frozen.run({torch::randn({3, 16})}), Catch::Contains("fixes it at 1"));
}
