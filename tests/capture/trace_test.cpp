// mlopt::trace and `mlopt trace` on scripted fixtures (tests/fixtures/make_trace_fixtures.py).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/csrc/jit/mobile/import.h>
#include <torch/csrc/jit/mobile/module.h>
#include <torch/script.h>

#include "mlopt/capture/trace.h"
#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

TraceOptions options_for(const std::string& fixture, const std::string& spec, const std::string& output) {
  TraceOptions o;
  o.model.path = test::test_data("trace/" + fixture);
  o.inputs = {spec};
  o.output = output;
  return o;
}

}  // namespace

TEST_CASE("trace: the traced archive reproduces the source model and carries metadata", "[trace]") {
  std::string dir = test::temp_dir("trace-lib");
  auto result = trace(options_for("cnn.pt", "x:batch=2x3x8x8", dir + "/cnn_traced.pt"), GlobalOptions{});
  CHECK(result.format == "torchscript");
  REQUIRE(result.checks.size() == 3);
  CHECK(result.dynamic_dims_checked);
  CHECK(result.checks[2].inputs == std::vector<std::string>{"x:batch=5x3x8x8:float32"});
  for (const auto& c : result.checks) CHECK((c.passed && c.max_abs_diff < 1e-5));

  auto traced = load_torchscript(dir + "/cnn_traced.pt");
  auto expected = load_tensors(test::test_data("trace/cnn_expected.npz"));  // PyTorch eager: x, y
  CHECK(torch::allclose(run_module(traced, {expected[0].second})[0], expected[1].second, 1e-4, 1e-5));
  // A traced graph has no calls into submodules' scripted code and no control flow.
  auto graph = traced.get_method("forward").graph();
  for (const auto* node : graph->nodes()) {
    CHECK(node->kind() != c10::prim::If);
    CHECK(node->kind() != c10::prim::CallMethod);
  }
  auto meta = nlohmann::json::parse(read_metadata(dir + "/cnn_traced.pt"));
  CHECK(meta["command"] == "trace");
  CHECK(meta["inputs"][0] == "x:batch=2x3x8x8:float32");
  CHECK(meta["producer"].get<std::string>().rfind("mlopt ", 0) == 0);
  // The same state_dict names as the source.
  auto source = load_torchscript(test::test_data("trace/cnn.pt"));
  std::vector<std::string> a, b;
  for (const auto& p : source.named_parameters()) a.push_back(p.name);
  for (const auto& p : traced.named_parameters()) b.push_back(p.name);
  CHECK(a == b);
}

TEST_CASE("trace: dynamic batch stays dynamic where the graph allows", "[trace]") {
  std::string dir = test::temp_dir("trace-dyn");
  trace(options_for("cnn.pt", "x:batch=1x3x8x8", dir + "/cnn.pt"), GlobalOptions{});
  auto traced = load_torchscript(dir + "/cnn.pt");
  auto source = load_torchscript(test::test_data("trace/cnn.pt"));
  auto x = torch::randn({7, 3, 8, 8});
  auto got = run_module(traced, {x});
  CHECK(got[0].sizes() == c10::IntArrayRef{7, 5});
  CHECK(torch::allclose(got[0], run_module(source, {x})[0], 1e-4, 1e-5));

  // x.view(x.size(0), -1): the size read becomes a constant, which the check detects.
  try {
    trace(options_for("view_batch.pt", "x:batch=2x3x4", dir + "/view.pt"), GlobalOptions{});
    FAIL("expected the check to fail");
  } catch (const Error& e) {
    CHECK(e.exit_code() == kExitCheckFailed);
    CHECK_THAT(e.what(), Catch::Contains("check input 1 (x:batch=3x3x4:float32)") &&
                             Catch::Contains("trace fixed a dynamic dim") && Catch::Contains("mlopt script"));
  }
  CHECK_FALSE(file_exists(dir + "/view.pt"));  // a failed check writes nothing
  // With static specs the same model traces and checks fine.
  CHECK(trace(options_for("view_batch.pt", "x:2x3x4", dir + "/view.pt"), GlobalOptions{}).checks.size() == 3);
}

TEST_CASE("trace: data-dependent control flow fails the check with exit code 3", "[trace]") {
  std::string dir = test::temp_dir("trace-cli");
  std::string model = test::test_data("trace/control_flow.pt");
  auto r = test::run_mlopt({"trace", model, "--input", "x:2x4", "-o", dir + "/cf.pt"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("mlopt: error: trace check failed on check input") &&
                        Catch::Contains("(x:2x4:float32)") && Catch::Contains("max abs diff") &&
                        Catch::Contains("mlopt script"));
  CHECK_FALSE(file_exists(dir + "/cf.pt"));

  r = test::run_mlopt({"trace", model, "--input", "x:2x4", "-o", dir + "/cf.pt", "--no-check", "--json"});
  CHECK(r.exit_code == 0);
  auto json = nlohmann::json::parse(r.out);
  CHECK(json["checks"].empty());
  // The trace recorded one path: it reproduces the model on the example it was traced on.
  auto traced = load_torchscript(dir + "/cf.pt");
  auto source = load_torchscript(model);
  auto example = random_inputs({parse_input_spec("x:2x4")}, 0);
  CHECK(torch::allclose(run_module(traced, example)[0], run_module(source, example)[0]));
}

TEST_CASE("trace: .ptl output loads in the lite interpreter and matches", "[trace]") {
  std::string dir = test::temp_dir("trace-ptl");
  auto r = test::run_mlopt({"trace", test::test_data("trace/cnn.pt"), "--input", "x:batch=1x3x8x8", "-o",
                            dir + "/cnn.ptl", "--json"});
  REQUIRE(r.exit_code == 0);
  auto json = nlohmann::json::parse(r.out);
  CHECK(json["format"] == "torchscript-lite");
  CHECK(json["lite_checked"] == true);
  auto lite = torch::jit::_load_for_mobile(dir + "/cnn.ptl");
  auto expected = load_tensors(test::test_data("trace/cnn_expected.npz"));
  torch::NoGradGuard no_grad;
  auto got = lite.forward({expected[0].second}).toTensor();
  CHECK(torch::allclose(got, expected[1].second, 1e-4, 1e-5));
}

TEST_CASE("trace: bad input is a one-line error", "[trace]") {
  std::string dir = test::temp_dir("trace-bad");
  std::string cnn = test::test_data("trace/cnn.pt");
  auto one_line = [](const test::CommandResult& r) {
    return r.err.find("mlopt: error:") != std::string::npos && r.err.find("Exception raised from") == std::string::npos;
  };
  auto r = test::run_mlopt({"trace", cnn, "--input", "x:3xbanana", "-o", dir + "/a.pt"});
  CHECK(r.exit_code != 0);
  CHECK(one_line(r));
  CHECK_THAT(r.err, Catch::Contains("x:3xbanana"));

  r = test::run_mlopt({"trace", dir + "/missing.pt", "--input", "x:1x3x8x8", "-o", dir + "/a.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("missing.pt") && Catch::Contains("does not exist"));

  write_file_atomically(dir + "/corrupt.pt", read_file(cnn).substr(0, 5000));
  r = test::run_mlopt({"trace", dir + "/corrupt.pt", "--input", "x:1x3x8x8", "-o", dir + "/a.pt"});
  CHECK(r.exit_code == 1);
  CHECK(one_line(r));
  CHECK_THAT(r.err, Catch::Contains("corrupt.pt"));

  // Wrong input shape for the model: the trace itself fails, naming the cause.
  r = test::run_mlopt({"trace", cnn, "--input", "x:1x5x8x8", "-o", dir + "/a.pt"});
  CHECK(r.exit_code == 1);
  CHECK(one_line(r));
  CHECK_THAT(r.err, Catch::Contains("tracing the model"));

  r = test::run_mlopt({"trace", cnn, "--input", "x:1x3x8x8", "-o", dir + "/a.onnx"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("expected a .pt"));
  r = test::run_mlopt({"trace", cnn, "-o", dir + "/a.pt"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(file_exists(dir + "/a.pt"));
}

TEST_CASE("trace: --help lists every flag", "[trace]") {
  auto r = test::run_mlopt({"trace", "--help"});
  CHECK(r.exit_code == 0);
  for (const char* flag : {"--input", "--output", "--check-inputs", "--no-check", "--class", "--init", "--weights"})
    CHECK_THAT(r.out, Catch::Contains(flag));
}
