#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::run_shell;
using mlopt::test::shell_quote;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

// The .onnx artifact, run by ONNX Runtime, reproduces the pruned TorchScript
// model (written by the same command with the same seed as .pt).
TEST_CASE("prune cli: .onnx artifacts verify against the pruned model in ONNX Runtime", "[prune]") {
  mlopt::test::require_ort();
  auto method = GENERATE(std::string("l1-unstructured"), std::string("global-unstructured"),
                         std::string("ln-structured"), std::string("channel"));
  auto fixture = GENERATE(std::string("residual_cnn"), std::string("mobilenet_cnn"), std::string("concat_cnn"));
  SECTION(method + " " + fixture) {
    auto dir = temp_dir("prune_onnx");
    std::vector<std::string> args = {"prune", test_data("prune/" + fixture + ".pt"), "--method", method,
                                     "--amount", "0.5", "--input", "x:2x3x16x16"};
    auto as_pt = args, as_onnx = args;
    as_pt.insert(as_pt.end(), {"-o", dir + "/pruned.pt"});
    as_onnx.insert(as_onnx.end(), {"-o", dir + "/pruned.onnx", "--json"});
    REQUIRE(run_mlopt(as_pt).exit_code == 0);
    auto r = run_mlopt(as_onnx);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["outputs_same_shape"] == true);

    torch::manual_seed(3);
    auto x = torch::randn({2, 3, 16, 16});
    auto got = mlopt::test::run_in_ort(dir + "/pruned.onnx", {{"x", x}}).at(0).second;
    auto pruned = mlopt::load_torchscript(dir + "/pruned.pt");
    auto want = mlopt::run_module(pruned, {x})[0];
    REQUIRE(got.sizes() == want.sizes());
    CHECK(at::allclose(got, want, 1e-4, 1e-4));
  }
}
