// `mlopt run` through the binary: usage, validation errors, dry runs of the bundled pipelines.
#include <catch2/catch.hpp>

#include <filesystem>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/hash.h"

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


TEST_CASE("run cli: the bundled pipelines validate and print their plans", "[pipeline]") {
  for (const char* config : {"configs/digits-release.yaml"}) {
    INFO(config);
    auto r = run_mlopt({"run", source_path(config), "--dry-run", "--out", temp_dir("dry")});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::Contains("pipeline ") && Catch::Contains("model source:"));
    auto j = run_mlopt({"run", source_path(config), "--dry-run", "--json"});
    CHECK(j.exit_code == 0);
    CHECK_THAT(j.out, Catch::Contains("\"dry_run\": true"));
  }
}

TEST_CASE("run cli: the digits release pipeline runs for real, re-runs from the cache, and gates exit 3", "[pipeline]") {
  namespace fs = std::filesystem;
  const std::string out = temp_dir("digits") + "/out";
  auto r = run_mlopt({"run", source_path("configs/digits-release.yaml"), "--out", out, "--json"});
  REQUIRE(r.exit_code == 0);
  auto result = nlohmann::json::parse(r.out);
  CHECK(result["passed"] == true);
  for (const char* file : {"prune.pt", "prune.ptl", "onnx.onnx", "manifest.json", "report.md", "report.html"})
    CHECK(fs::exists(out + "/" + file));
  auto manifest = nlohmann::json::parse(mlopt::read_file(out + "/manifest.json"));
  for (const auto& a : manifest["artifacts"]) {
    const std::string path = out + "/" + a["path"].get<std::string>();
    CHECK(a["sha256"] == mlopt::sha256_file(path));
    CHECK(a["size"] == mlopt::file_size(path));
  }
  CHECK(manifest["artifacts"][2]["signature"]["inputs"][0]["shape"][0] == "batch");
  const std::string onnx = mlopt::read_file(out + "/onnx.onnx");

  // Unchanged: every step from the cache, quickly.
  const auto start = std::chrono::steady_clock::now();
  auto again = run_mlopt({"run", source_path("configs/digits-release.yaml"), "--out", out});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("0 step(s) ran, 2 reused from the cache"));
  // The < 2 s target is measured by tests/bench/pipeline_bench.sh; CI machines vary.
  CHECK(seconds < 60.0);

  // --force: recomputed, byte-identical.
  auto forced = run_mlopt({"run", source_path("configs/digits-release.yaml"), "--out", out, "--force"});
  CHECK(forced.exit_code == 0);
  CHECK(mlopt::read_file(out + "/onnx.onnx") == onnx);

  // A failing gate: exit 3 after the report, naming the gate and the figure.
  auto gated = run_mlopt({"run", source_path("configs/digits-release.yaml"), "--out", out, "--set", "gates.0.max_file_size=1KB"});
  CHECK(gated.exit_code == 3);
  CHECK_THAT(gated.err, Catch::Contains("\nmlopt: error: gate failed: prune: max_file_size <= 1000 (file size "));
  CHECK_THAT(mlopt::read_file(out + "/report.md"), Catch::Contains("❌ **FAIL** `prune: max_file_size <= 1000`"));
}
