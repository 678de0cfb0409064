// Corrupt or unsupported ONNX files are errors naming the file, never crashes.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <random>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "onnx/eval/graph_builder.h"
#include "support/test_support.h"

using namespace mlopt;

using mlopt::test::error_of;

TEST_CASE("onnx eval: truncated and garbage files are errors", "[onnx-eval]") {
  std::string dir = test::temp_dir("onnx-eval-bad");
  std::string good = read_file(test::test_data("verify/cnn.onnx"));
  write_file_atomically(dir + "/cut.onnx", good.substr(0, good.size() / 2));
  CHECK_THAT(error_of([&] { onnx_eval::Evaluator::load(dir + "/cut.onnx"); }), Catch::Contains("cut.onnx"));
  write_file_atomically(dir + "/text.onnx", "this is not a model");
  CHECK_THAT(error_of([&] { onnx_eval::Evaluator::load(dir + "/text.onnx"); }), Catch::Contains("text.onnx"));
  CHECK_THAT(error_of([&] { onnx_eval::Evaluator::load(dir + "/missing.onnx"); }), Catch::Contains("no such file"));
  // Random byte flips: every outcome is a clean error or a successful run.
  std::mt19937 rng(1);
  for (int trial = 0; trial < 40; ++trial) {
    std::string bytes = good;
    for (int k = 0; k < 8; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    try {
      auto ev = onnx_eval::Evaluator::from_bytes(bytes, "flipped");
      ev.run({torch::randn({2, 1, 8, 8})});
    } catch (const Error&) {
    }
  }
}

TEST_CASE("onnx eval: graphs with missing values, unknown ops or bad inputs are errors naming the node", "[onnx-eval]") {
  test::GraphBuilder b;
  b.input("x", torch::randn({2, 3}));
  b.node("Relu", {"nowhere"}, {"y"});
  b.output("y");
  CHECK_THAT(error_of([&] { b.build(); }), Catch::Contains("'nowhere'"));

  test::GraphBuilder u;
  u.input("x", torch::randn({2, 3}));
  u.node("FancyOp", {"x"}, {"y"});
  u.output("y");
  CHECK_THAT(error_of([&] { u.build().run({torch::randn({2, 3})}); }), Catch::Contains("FancyOp"));

  test::GraphBuilder r;
  r.input("x", torch::randn({2, 3}));
  r.node("Reshape", {"x", "x"}, {"y"});
  r.output("y");
  auto ev = r.build();
  CHECK_THAT(error_of([&] { ev.run({torch::randn({2, 3})}); }), Catch::Contains("Reshape"));
  CHECK_THAT(error_of([&] { ev.run({torch::randn({2, 3, 1})}); }), Catch::Contains("expects 2"));
  CHECK_THAT(error_of([&] { ev.run({}); }), Catch::Contains("takes 1 input"));
}
