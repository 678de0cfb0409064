// The runtime layer: every artifact format runs behind one Runner.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/runtime/runner.h"
#include "support/test_support.h"

using namespace mlopt;

TEST_CASE("runner: .pt, .ptl and .onnx compute the same MLP outputs", "[runtime][verify]") {
  auto io = load_tensors(test::test_data("verify/mlp_io.npz"));
  at::Tensor x = io[0].second, expected = io[1].second;
  for (const char* name : {"mlp.pt", "mlp.ptl", "mlp.onnx"}) {
    INFO(name);
    auto runner = load_runner(test::test_data(std::string("verify/") + name));
    auto out = runner->run({x});
    REQUIRE(out.size() == 1);
    CHECK(torch::allclose(out[0], expected, 1e-4, 1e-5));
    CHECK(runner->precision() == "fp32");
    CHECK(runner->parameter_count() == 16 * 32 + 32 + 32 * 4 + 4);
    REQUIRE(runner->declared_inputs().size() == 1);
    CHECK(runner->declared_inputs()[0].dims[0].dynamic());
  }
  CHECK(load_runner(test::test_data("verify/mlp.onnx"))->engine() == "onnx-reference-evaluator");
  CHECK_THROWS_AS(load_runner(test::test_data("verify/mlp_io.npz")), Error);
}
