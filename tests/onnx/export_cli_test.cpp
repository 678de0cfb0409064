// mlopt export-onnx through the binary: --json result and errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/model_io.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

TEST_CASE("onnx cli: --json reports opset, op counts, file size and dynamic dims", "[onnx]") {
  std::string out = temp_dir("onnx-cli") + "/resnet.onnx";
  auto r = run_mlopt({"export-onnx", test_data("onnx/resnet_tiny.pt"), "--input", "x:batch=1x3x32x32", "--opset", "15",
                      "--output-names", "logits", "-o", out, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["opset"] == 15);
  CHECK(j["file_size"].get<int64_t>() == mlopt::file_size(out));
  CHECK(j["ops"]["Conv"].get<int>() >= 5);
  CHECK(j["dynamic_dims"] == nlohmann::json::array({"batch"}));
  CHECK(j["outputs"] == nlohmann::json::array({"logits"}));
  CHECK(j["inputs"] == nlohmann::json::array({"x"}));
}

TEST_CASE("onnx cli: bad opset, missing file and wrong input count are one-line errors", "[onnx]") {
  std::string out = temp_dir("onnx-cli") + "/m.onnx";
  auto r = run_mlopt({"export-onnx", test_data("onnx/resnet_tiny.pt"), "--input", "x:1x3x32x32", "--opset", "12", "-o", out});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("mlopt: error:") && Catch::Contains("opset"));
  r = run_mlopt({"export-onnx", "/nonexistent/model.pt", "--input", "x:1x3", "-o", out});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("/nonexistent/model.pt"));
  r = run_mlopt({"export-onnx", test_data("onnx/resnet_tiny.pt"), "--input", "x:1x3x32x32", "--input", "y:1", "-o", out});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("takes 1 inputs"));
  CHECK_FALSE(mlopt::file_exists(out));
}

TEST_CASE("onnx cli: unsupported ops are all listed with counts and locations", "[onnx]") {
  // A module using two ops without converters (fft and a bool-mask index) twice.
  torch::jit::Module m("m");
  m.define(
      "def forward(self, x):\n"
      "  a = torch.fft_fft(x).real\n"
      "  b = torch.fft_fft(x * 2).real\n"
      "  return a + b + torch.kthvalue(x, 1)[0].unsqueeze(-1)\n");
  std::string dir = temp_dir("onnx-cli");
  m.save(dir + "/bad.pt");
  auto r = run_mlopt({"export-onnx", dir + "/bad.pt", "--input", "x:2x4", "-o", dir + "/bad.onnx"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("unsupported ops") && Catch::Contains("aten::fft_fft x2") &&
                        Catch::Contains("aten::kthvalue x1"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

