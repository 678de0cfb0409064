// `mlopt run` through the binary: usage, validation errors, dry runs of the bundled pipelines.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::source_path;
using mlopt::test::temp_dir;

TEST_CASE("run cli: --help lists the flags", "[pipeline]") {
  auto r = run_mlopt({"run", "--help"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("--dry-run") && Catch::Contains("--set") && Catch::Contains("--only") &&
                        Catch::Contains("--from") && Catch::Contains("--force") && Catch::Contains("--out"));
}

TEST_CASE("run cli: a bad pipeline is one error line with file:line:column and exit 1", "[pipeline]") {
  const std::string dir = temp_dir("run-cli");
  const std::string file = dir + "/bad.yaml";
  std::ofstream(file) << "name: bad\nmodel: " << source_path("examples/models/mlp.py") << "\nstesp: []\n";
  auto r = run_mlopt({"run", file, "--dry-run"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "mlopt: error: " + file + ":3:1: the pipeline: unknown key 'stesp' (did you mean 'steps'?)\n");
  r = run_mlopt({"run", dir + "/missing.yaml"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("no such pipeline file"));
  r = run_mlopt({"run", file, "--set", "novalue"});
  CHECK(r.exit_code == 2);
}

