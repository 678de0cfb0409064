// `mlopt script` through the CLI: .pt and .ptl outputs, --json, errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/csrc/jit/mobile/import.h>
#include <torch/csrc/jit/mobile/module.h>
#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

TEST_CASE("script CLI: .pt with weights reproduces eager output", "[script]") {
  std::string out = temp_dir("script_cli") + "/digits.pt";
  auto r = run_mlopt({"script", source_path("examples/models/digits_cnn.py"), "--class", "DigitsCNN", "--weights",
                      test_data("script/digits_cnn.pth"), "--input", "x:batch=2x1x8x8", "-o", out, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto json = nlohmann::json::parse(r.out);
  CHECK(json["class"] == "DigitsCNN");
  CHECK(json["format"] == "torchscript");
  CHECK(json["output_shapes"][0] == "2x10");
  auto module = mlopt::load_torchscript(out);
  auto arrays = mlopt::load_tensors(test_data("script/digits_cnn.npz"));
  auto got = mlopt::run_module(module, {arrays[0].second})[0];
  CHECK(got.allclose(arrays[1].second, 1e-5, 1e-6));
  CHECK_THAT(mlopt::read_metadata(out), Catch::Contains("\"class\":\"DigitsCNN\""));
}

TEST_CASE("script CLI: .ptl output loads in the lite interpreter and is checked", "[script]") {
  std::string out = temp_dir("script_cli") + "/lstm.ptl";
  auto r = run_mlopt({"script", source_path("examples/models/lstm_classifier.py"), "--class", "LSTMClassifier",
                      "--weights", test_data("script/lstm_classifier.pth"), "--input", "tokens:2x12:int64:0..100",
                      "-o", out, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto json = nlohmann::json::parse(r.out);
  CHECK(json["format"] == "torchscript-lite");
  CHECK(json["lite_checked"] == true);
  auto lite = torch::jit::_load_for_mobile(out);
  auto arrays = mlopt::load_tensors(test_data("script/lstm_classifier.npz"));
  torch::NoGradGuard no_grad;
  auto got = lite.forward({arrays[0].second}).toTensor();
  CHECK(got.allclose(arrays[1].second, 1e-5, 1e-6));
}

TEST_CASE("script CLI: errors are one line with exit codes", "[script]") {
  std::string dir = temp_dir("script_cli");
  auto r = run_mlopt({"script", source_path("examples/models/mlp.py"), "--init", "nope=1", "-o", dir + "/m.pt"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("mlopt: error: --init 'nope=1'"));
  r = run_mlopt({"script", source_path("examples/models/mlp.py"), "--weights", test_data("script/digits_cnn.pth"), "-o",
                 dir + "/m.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("does not match the model"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  r = run_mlopt({"script", "--help"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("--init"));
}
