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
