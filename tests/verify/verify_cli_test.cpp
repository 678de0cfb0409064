#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::test_data;

TEST_CASE("mlopt verify: exit 0 on agreement with a table and the verdict last", "[verify]") {
  auto r = run_mlopt({"verify", test_data("verify/mlp.pt"), test_data("verify/mlp.onnx")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("max abs"));
  CHECK_THAT(r.out, Catch::Contains("logits"));
  CHECK_THAT(r.out.substr(r.out.rfind("PASS") == std::string::npos ? 0 : r.out.rfind("PASS")), Catch::StartsWith("PASS"));
}

TEST_CASE("mlopt verify: exit 3 when outputs disagree, --json carries every metric", "[verify]") {
  auto r = run_mlopt({"verify", test_data("verify/mlp_noisy.pt"), test_data("verify/mlp.pt"), "--json"});
  CHECK(r.exit_code == 3);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["passed"] == false);
  for (const char* key : {"max_abs_error", "max_rel_error", "mean_abs_error", "cosine_similarity", "outside_share",
                          "top1_agreement", "atol_used"})
    CHECK(j["outputs"][0].contains(key));
  CHECK(j["tolerance"]["scale_atol"] == 1e-4);

  // An explicit --atol is the whole absolute tolerance.
  auto strict = run_mlopt({"verify", test_data("verify/mlp_noisy.pt"), test_data("verify/mlp.pt"), "--atol", "1e-5", "--json"});
  auto s = nlohmann::json::parse(strict.out);
  CHECK(s["tolerance"]["scale_atol"] == 0);
  CHECK(s["outputs"][0]["atol_used"] == 1e-5);
}

TEST_CASE("mlopt verify: --data runs the digits set through both artifacts and reports accuracy", "[verify][dataset]") {
  auto r = run_mlopt({"verify", test_data("verify/digits_mlp.pt"), test_data("verify/digits_mlp.onnx"), "--data",
                      test_data("digits.csv.gz"), "--scale", "0.0625", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["input_source"] == "data");
  CHECK(j["labelled_samples"] == 256);
  CHECK(j["accuracy_a"].get<double>() > 0.9);
  CHECK(j["accuracy_a"].get<double>() == j["accuracy_b"].get<double>());
  CHECK(j["outputs"][0]["top1_agreement"] == 1.0);
  // A model that takes 16 features cannot run 64-feature samples: a clean error.
  auto bad = run_mlopt({"verify", test_data("verify/mlp.pt"), test_data("verify/mlp.onnx"), "--data",
                        test_data("digits.csv.gz")});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::StartsWith("mlopt: error:"));
}

TEST_CASE("mlopt verify: errors are one line with exit 1, usage errors exit 2", "[verify]") {
  auto r = run_mlopt({"verify", test_data("verify/nope.pt"), test_data("verify/mlp.pt")});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("nope.pt"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  auto u = run_mlopt({"verify", test_data("verify/mlp.pt")});
  CHECK(u.exit_code == 2);
  auto h = run_mlopt({"verify", "--help"});
  CHECK(h.exit_code == 0);
  CHECK_THAT(h.out, Catch::Contains("--expected"));
}

TEST_CASE("mlopt verify and profile: a .py model is scripted on the fly and compared with its artifacts", "[verify][profile]") {
  const std::string dir = mlopt::test::temp_dir("verify-py");
  const std::string py = mlopt::test::source_path("examples/models/mlp.py");
  const std::vector<std::string> model = {"--class", "MLP", "--init", "hidden=24"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), model.begin(), model.end());
    return run_mlopt(args);
  };
  REQUIRE(with({"script", py, "-o", dir + "/mlp.pt"}).exit_code == 0);
  REQUIRE(run_mlopt({"export-onnx", dir + "/mlp.pt", "--input", "x:batch=2x16", "-o", dir + "/mlp.onnx"}).exit_code == 0);

  // Same seed: the .py builds the same parameters the artifacts were made from.
  auto r = with({"verify", py, dir + "/mlp.pt", "--input", "x:batch=2x16", "--json"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["outputs"][0]["max_abs_error"] == 0.0);
  r = with({"verify", dir + "/mlp.onnx", py, "--input", "x:batch=2x16"});
  CHECK(r.exit_code == 0);
  // A different seed gives other weights: the comparison must fail, not pass vacuously.
  r = with({"verify", py, dir + "/mlp.pt", "--input", "x:batch=2x16", "--seed", "7"});
  CHECK(r.exit_code == 3);

  auto p = with({"profile", py, "--input", "x:batch=4x16", "--iters", "10", "--json"});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  auto j = nlohmann::json::parse(p.out);
  CHECK(j["parameter_count"] == 16 * 24 + 24 + 24 * 24 + 24 + 24 * 4 + 4);
  CHECK(j["latency_ms"]["p50"].get<double>() > 0);
}

TEST_CASE("mlopt verify: half-precision weights kept as frozen constants get fp16 tolerances", "[verify]") {
  // `quantize --mode fp16` keeps its half weights as constants of a frozen
  // graph, not as parameters: auto-detection must still see fp16.
  const std::string dir = mlopt::test::temp_dir("verify-fp16");
  const std::string fp16 = dir + "/mlp.fp16.pt";
  REQUIRE(run_mlopt({"quantize", test_data("quantize_digits_mlp.pt"), "--mode", "fp16", "--input", "x:1x64",
                     "--no-latency", "-q", "-o", fp16})
              .exit_code == 0);
  auto r = run_mlopt({"verify", fp16, test_data("quantize_digits_mlp.pt")});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("tolerance for fp16"));
}
