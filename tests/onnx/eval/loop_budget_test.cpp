// A Loop whose trip count is 2^62 and whose condition stays true stops at the
// evaluator's iteration budget with a one-line error instead of running for ever.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <chrono>

#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/loop_budget.h"
#include "onnx/eval/graph_builder.h"

using namespace mlopt;

namespace {

// Loop(M, true, acc): acc = acc + 1, condition passed through.
test::GraphBuilder counting_loop() {
  test::GraphBuilder b;
  b.input("m", torch::scalar_tensor(0, at::kLong)).input("acc0", torch::zeros({1}));
  b.init("one", torch::ones({1}));
  b.init("go", torch::tensor(true));
  onnx::GraphProto body;
  body.set_name("body");
  for (auto [name, ex] : {std::pair<const char*, at::Tensor>{"i", torch::scalar_tensor(0, at::kLong)},
                          {"cond_in", torch::tensor(true)}, {"acc", torch::zeros({1})}})
    test::GraphBuilder::add_value_info(body.add_input(), name, ex);
  test::GraphBuilder::add_node(&body, "Identity", {"cond_in"}, {"cond_out"});
  test::GraphBuilder::add_node(&body, "Add", {"acc", "one"}, {"next"});
  for (const char* o : {"cond_out", "next"}) body.add_output()->set_name(o);
  auto& n = b.node("Loop", {"m", "go", "acc0"}, {"final"});
  n.set_name("forever");
  test::attr(n, "body", body);
  b.output("final");
  return b;
}

}  // namespace

TEST_CASE("onnx eval: a Loop with trip count 2^62 stops at the iteration budget with a one-line error",
          "[onnx-eval]") {
  auto ev = counting_loop().build();
  auto start = std::chrono::steady_clock::now();
  try {
    ev.run({torch::scalar_tensor(int64_t{1} << 62, at::kLong), torch::zeros({1})});
    FAIL("the loop ran to completion");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("Loop node 'forever'") != std::string::npos);
    CHECK(msg.find("budget of 1048576") != std::string::npos);
    CHECK(msg.find("trip count 4611686018427387904") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("the default budget took " << seconds << " s");
  CHECK(seconds < 120);
}

TEST_CASE("onnx eval: Loops within the budget run, and the budget counts one run at a time", "[onnx-eval]") {
  auto saved = onnx_eval::max_loop_iterations();
  onnx_eval::set_max_loop_iterations(100);
  auto ev = counting_loop().build();
  CHECK(ev.run({torch::scalar_tensor(100, at::kLong), torch::zeros({1})})[0].item<float>() == 100);
  CHECK(ev.run({torch::scalar_tensor(100, at::kLong), torch::zeros({1})})[0].item<float>() == 100);
  CHECK_THROWS_WITH(ev.run({torch::scalar_tensor(101, at::kLong), torch::zeros({1})}),
                    Catch::Contains("budget of 100 (trip count 101"));
  onnx_eval::set_max_loop_iterations(saved);
}
