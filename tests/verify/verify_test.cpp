#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/verify/verify.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {
VerifyOptions options(const std::string& a, const std::string& b = "") {
  VerifyOptions o;
  o.a = a.empty() ? "" : test::test_data("verify/" + a);
  o.b = b.empty() ? "" : test::test_data("verify/" + b);
  return o;
}
}  // namespace

TEST_CASE("verify: an artifact against its own export passes, with every metric", "[verify]") {
  auto o = options("mlp.pt", "mlp.onnx");
  auto r = verify(o, GlobalOptions{});
  CHECK(r.passed);
  CHECK(r.input_source == "random");
  // Checked at the example batch and at a second size of the dynamic dim.
  REQUIRE(r.shapes.size() == 2);
  CHECK(r.shapes[1].shapes == "x:3x16");
  REQUIRE(r.report.outputs.size() == 1);
  const auto& out = r.report.outputs[0];
  CHECK(out.name == "logits");
  CHECK(out.max_abs_error < 1e-5);
  CHECK(out.cosine_similarity > 0.99999);
  REQUIRE(out.top1_agreement);
  CHECK(*out.top1_agreement == 1.0);
  auto j = r.to_json();
  CHECK(j["passed"] == true);
  CHECK(j["outputs"][0].contains("max_rel_error"));
  CHECK(j["tolerance"]["rtol"] == 1e-3);
}

TEST_CASE("verify: perturbed weights fail with the metrics that show it", "[verify]") {
  auto r = verify(options("mlp_noisy.pt", "mlp.pt"), GlobalOptions{});
  CHECK_FALSE(r.passed);
  REQUIRE(r.report.outputs.size() == 1);
  CHECK(r.report.outputs[0].max_abs_error > 1e-3);
  CHECK(r.report.outputs[0].outside_share > 0.5);
  CHECK_FALSE(r.failures.empty());
}

TEST_CASE("verify: a frozen batch dim is caught at the second shape", "[verify]") {
  auto o = options("mlp_frozen.onnx", "mlp.pt");
  o.input = {"x:batch=1x16"};
  auto r = verify(o, GlobalOptions{});
  CHECK_FALSE(r.passed);
  REQUIRE(r.shapes.size() == 2);
  CHECK(r.shapes[0].passed);
  CHECK_FALSE(r.shapes[1].passed);
  CHECK_THAT(r.to_text(), Catch::Contains("dynamic dim may have been frozen"));
}

TEST_CASE("verify: --expected outputs saved by --save-outputs, and --inputs files", "[verify]") {
  std::string dir = test::temp_dir("verify-expected");
  auto o = options("mlp.pt", "mlp.ptl");
  o.save_outputs = dir + "/out.npz";
  REQUIRE(verify(o, GlobalOptions{}).passed);
  auto e = options("mlp.onnx");
  e.expected = dir + "/out.npz";
  auto r = verify(e, GlobalOptions{});
  CHECK(r.passed);
  CHECK(r.engine_b == "stored outputs");

  // The stored eager outputs with the stored inputs.
  auto io = load_tensors(test::test_data("verify/mlp_io.npz"));
  save_tensors(dir + "/x.npz", {{"x", io[0].second}});
  save_tensors(dir + "/eager.npz", {{"logits", io[1].second}});
  auto f = options("mlp.ptl");
  f.inputs = dir + "/x.npz";
  f.expected = dir + "/eager.npz";
  auto rf = verify(f, GlobalOptions{});
  CHECK(rf.passed);
  CHECK(rf.input_source == "file");
  // A different seed for the random inputs no longer matches the stored outputs.
  GlobalOptions other;
  other.seed = 99;
  CHECK_FALSE(verify(e, other).passed);
}

TEST_CASE("verify: shape and count mismatches against stored outputs are reported as such", "[verify]") {
  std::string dir = test::temp_dir("verify-mismatch");
  save_tensors(dir + "/wrong_shape.npz", {{"logits", torch::zeros({1, 5})}});
  auto o = options("mlp.pt");
  o.expected = dir + "/wrong_shape.npz";
  auto r = verify(o, GlobalOptions{});
  CHECK_FALSE(r.passed);
  CHECK(r.report.outputs.at(0).shape_mismatch);
  save_tensors(dir + "/two.npz", {{"a", torch::zeros({1, 4})}, {"b", torch::zeros({1})}});
  o.expected = dir + "/two.npz";
  auto c = verify(o, GlobalOptions{});
  CHECK(c.report.count_mismatch);
  CHECK_THAT(c.to_text(), Catch::Contains("output count 1 vs 2"));
}

TEST_CASE("verify: precision defaults follow the artifacts and flags override them", "[verify]") {
  auto o = options("mlp_noisy.pt", "mlp.pt");
  o.precision = "int8";
  auto r = verify(o, GlobalOptions{});
  CHECK(r.tolerance.precision == "int8");
  CHECK(r.passed);  // 1e-2 weight noise is well within int8 agreement
  o.min_cosine = 0.999999;
  CHECK_FALSE(verify(o, GlobalOptions{}).passed);
}

TEST_CASE("verify: bad requests are errors naming what is missing", "[verify]") {
  CHECK_THROWS_WITH(verify(options("mlp.pt"), GlobalOptions{}), Catch::Contains("--expected"));
  auto o = options("mlp.pt", "mlp.onnx");
  o.input = {"x:1x17"};
  CHECK_THROWS_AS(verify(o, GlobalOptions{}), Error);
  auto m = options("mlp.pt", "mlp.onnx");
  m.a = test::test_data("verify/missing.pt");
  CHECK_THROWS_AS(verify(m, GlobalOptions{}), Error);
}
