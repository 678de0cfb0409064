// Kernels whose output shape comes from data refuse values over the
// evaluator's limit before allocating, with an error naming the node.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/tensor_limits.h"
#include "onnx/eval/graph_builder.h"

using namespace mlopt;

namespace {

std::string run_error(const test::GraphBuilder& b, const std::vector<at::Tensor>& inputs) {
  try {
    b.build().run(inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

at::Tensor longs(std::vector<int64_t> values) { return torch::tensor(values, at::kLong); }

}  // namespace

TEST_CASE("onnx eval: ConstantOfShape, Expand, Tile, Range and Pad asking for 10^12 elements are refused", "[onnx-eval][hardening]") {
  test::GraphBuilder cos;
  cos.init("shape", longs({1000000, 1000000}));
  cos.node("ConstantOfShape", {"shape"}, {"y"});
  cos.output("y");
  auto error = run_error(cos, {});
  CHECK_THAT(error, Catch::Contains("ConstantOfShape node") && Catch::Contains("1000000000000 elements") &&
                        Catch::Contains("refusing before allocating"));

  test::GraphBuilder expand;
  expand.input("x", torch::randn({1, 1}));
  expand.init("shape", longs({1000000, 1000000}));
  expand.node("Expand", {"x", "shape"}, {"y"});
  expand.output("y");
  CHECK_THAT(run_error(expand, {torch::randn({1, 1})}), Catch::Contains("Expand node") && Catch::Contains("over the evaluator's limit"));

  test::GraphBuilder tile;
  tile.input("x", torch::randn({2}));
  tile.init("repeats", longs({int64_t{1} << 40}));
  tile.node("Tile", {"x", "repeats"}, {"y"});
  tile.output("y");
  CHECK_THAT(run_error(tile, {torch::randn({2})}), Catch::Contains("Tile node") && Catch::Contains("over the evaluator's limit"));

  test::GraphBuilder range;
  range.init("start", torch::scalar_tensor(0, at::kLong));
  range.init("limit", torch::scalar_tensor(INT64_MAX, at::kLong));
  range.init("delta", torch::scalar_tensor(1, at::kLong));
  range.node("Range", {"start", "limit", "delta"}, {"y"});
  range.output("y");
  CHECK_THAT(run_error(range, {}), Catch::Contains("Range node") && Catch::Contains("over the evaluator's limit"));

  test::GraphBuilder pad;
  pad.input("x", torch::randn({1, 1}));
  pad.init("pads", longs({0, 0, 1000000, 1000000}));
  pad.node("Pad", {"x", "pads"}, {"y"});
  pad.output("y");
  CHECK_THAT(run_error(pad, {torch::randn({1, 1})}), Catch::Contains("Pad node") && Catch::Contains("over the evaluator's limit"));
}

TEST_CASE("onnx eval: Resize to a huge or hostile size is refused, and a small one still runs", "[onnx-eval][hardening]") {
  // The fuzzer's first find: sizes [0, 2^60] hold no element, but the
  // per-axis index tables were sized by the 2^60.
  test::GraphBuilder zero;
  zero.input("x", torch::randn({1, 2}));
  zero.init("roi", torch::empty({0}));
  zero.init("scales", torch::empty({0}));
  zero.init("sizes", longs({0, int64_t{1} << 60}));
  zero.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"});
  zero.output("y");
  CHECK_THAT(run_error(zero, {torch::randn({1, 2})}), Catch::Contains("Resize node") && Catch::Contains("over the evaluator's limit"));

  test::GraphBuilder nan;
  nan.input("x", torch::randn({1, 2}));
  nan.init("roi", torch::empty({0}));
  nan.init("scales", torch::tensor({1.0f, std::numeric_limits<float>::quiet_NaN()}));
  nan.node("Resize", {"x", "roi", "scales"}, {"y"});
  nan.output("y");
  CHECK_THAT(run_error(nan, {torch::randn({1, 2})}), Catch::Contains("Resize node") && Catch::Contains("not a positive number"));

  test::GraphBuilder fine;
  fine.input("x", torch::randn({1, 2}));
  fine.init("roi", torch::empty({0}));
  fine.init("scales", torch::tensor({1.0f, 2.0f}));
  fine.node("Resize", {"x", "roi", "scales"}, {"y"});
  fine.output("y");
  CHECK(fine.build().run({torch::randn({1, 2})})[0].sizes() == at::IntArrayRef({1, 4}));
}

TEST_CASE("onnx eval: the value limit can be tightened for a smaller budget", "[onnx-eval][hardening]") {
  test::GraphBuilder b;
  b.init("shape", longs({1000, 1000}));
  b.node("ConstantOfShape", {"shape"}, {"y"});
  b.output("y");
  CHECK(b.build().run({})[0].numel() == 1000000);
  std::string error;
  {
    onnx_eval::ValueLimitScope limit(1000);
    error = run_error(b, {});
  }
  CHECK_THAT(error, Catch::Contains("limit of 1000"));
}

TEST_CASE("onnx eval: broadcasting ops and MatMul whose output would be over the limit are refused", "[onnx-eval][hardening]") {
  // [2^20, 1] + [1, 2^20]: 16 MiB of inputs, 2^40 elements of output.
  const int64_t n = int64_t{1} << 20;
  auto column = torch::zeros({n, 1}), row = torch::zeros({1, n});
  for (const char* op : {"Add", "Mul", "Max", "Where"}) {
    INFO(op);
    test::GraphBuilder b;
    b.input("a", column);
    b.input("b", row);
    std::vector<std::string> inputs{"a", "b"};
    if (std::string(op) == "Where") {
      b.init("cond", torch::ones({1, 1}, at::kBool));
      inputs = {"cond", "a", "b"};
    }
    b.node(op, inputs, {"y"});
    b.output("y");
    CHECK_THAT(run_error(b, {column, row}), Catch::Contains(std::string(op) + " node") &&
                                                Catch::Contains("the broadcast output [1048576, 1048576]") &&
                                                Catch::Contains("refusing before allocating"));
  }
  test::GraphBuilder mm;
  mm.input("a", column);
  mm.input("b", row);
  mm.node("MatMul", {"a", "b"}, {"y"});
  mm.output("y");
  CHECK_THAT(run_error(mm, {column, row}), Catch::Contains("MatMul node") && Catch::Contains("the MatMul output [1048576, 1048576]"));

  // Ordinary broadcasting and batched MatMul still run.
  test::GraphBuilder ok;
  ok.input("a", torch::ones({3, 1, 4, 5}));
  ok.input("b", torch::ones({2, 5, 6}));
  ok.node("MatMul", {"a", "b"}, {"m"});
  ok.input("c", torch::ones({6}));
  ok.node("Add", {"m", "c"}, {"y"});
  ok.output("y");
  auto y = ok.build().run({torch::ones({3, 1, 4, 5}), torch::ones({2, 5, 6}), torch::ones({6})})[0];
  CHECK(y.sizes() == at::IntArrayRef({3, 2, 4, 6}));
  CHECK(y[0][0][0][0].item<float>() == 6.0f);
}

TEST_CASE("onnx eval: a value limit scope tightens the limit and gives the old one back", "[onnx-eval][hardening]") {
  const int64_t saved = onnx_eval::max_value_elements();
  {
    onnx_eval::ValueLimitScope scope(1000);
    CHECK(onnx_eval::max_value_elements() == 1000);
    {
      onnx_eval::ValueLimitScope looser(int64_t{1} << 40);  // never loosens
      CHECK(onnx_eval::max_value_elements() == 1000);
    }
    CHECK(onnx_eval::max_value_elements() == 1000);
  }
  CHECK(onnx_eval::max_value_elements() == saved);
}
