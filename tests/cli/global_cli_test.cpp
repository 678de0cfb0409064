#include <catch2/catch.hpp>

#include "support/test_support.h"

using mlopt::test::run_mlopt;

TEST_CASE("cli: --version names mlopt, LibTorch and the ONNX opset", "[cli]") {
  auto r = run_mlopt({"--version"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("mlopt 0.") && Catch::Contains("LibTorch 1.13") && Catch::Contains("opset 17"));
}

TEST_CASE("cli: unknown flags are usage errors with exit code 2", "[cli]") {
  auto r = run_mlopt({"--no-such-flag"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("mlopt: error:"));
}

TEST_CASE("cli: --help documents the exit codes", "[cli]") {
  auto r = run_mlopt({"--help"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Exit codes: 0 success, 1 error"));
}

TEST_CASE("cli: output that cannot be written is an error, not a silent success", "[cli]") {
  // stdout on a full device: the bytes are lost, so the exit code must say so.
  auto version = mlopt::test::run_shell(mlopt::test::shell_quote(MLOPT_BINARY) + " --version > /dev/full");
  CHECK(version.exit_code == 1);
  CHECK_THAT(version.err, Catch::Contains("mlopt: error: cannot write to standard output"));

  std::string out = mlopt::test::temp_dir("cli_full_stdout") + "/mlp.onnx";
  auto json = mlopt::test::run_shell(mlopt::test::shell_quote(MLOPT_BINARY) + " export-onnx " +
                                     mlopt::test::shell_quote(mlopt::test::test_data("onnx/example_mlp.pt")) +
                                     " --input x:batch=1x16 --json -o " + mlopt::test::shell_quote(out) + " > /dev/full");
  CHECK(json.exit_code == 1);
  CHECK_THAT(json.err, Catch::Contains("cannot write to standard output"));
}
