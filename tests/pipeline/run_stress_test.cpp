// Concurrent runs on one output folder and runs killed at any point (issue
// 15): whatever the timing, the manifest describes the files beside it and
// the cache serves only the bytes its blobs are named for. The assertions
// hold for every interleaving, so the test needs no timing to be right; the
// delays only spread the kills over a run's phases. Bounded: 6 rounds each.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/hash.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using mlopt::test::run_mlopt;
using mlopt::test::run_shell;
using mlopt::test::shell_quote;
using mlopt::test::source_path;
using mlopt::test::temp_dir;

namespace {

std::string tiny_pipeline(const std::string& dir) {
  const std::string file = dir + "/tiny.yaml";
  std::ofstream(file) << "name: tiny\nmodel: {path: " << source_path("examples/models/mlp.py")
                      << ", class: MLP}\ninputs: [x:batch=1x16:float32]\nsteps:\n"
                         "  - {name: mlp, type: script, save: [ptl]}\n"
                         "  - {name: onnx, type: export-onnx}\n";
  return file;
}

// The manifest, when it says the run passed, lists files whose bytes match;
// when it does not, it says why. Every cache blob holds the bytes of its name.
void check_folder(const std::string& out) {
  if (!fs::exists(out + "/manifest.json")) return;
  const auto manifest = nlohmann::json::parse(mlopt::read_file(out + "/manifest.json"));
  const std::string status = manifest.value("status", "");
  INFO("status " << status);
  CHECK((status == "passed" || status == "incomplete" || status == "failed"));
  if (status == "passed")
    for (const auto& a : manifest["artifacts"])
      CHECK(mlopt::sha256_file(out + "/" + a["path"].get<std::string>()) == a["sha256"]);
  else
    CHECK(manifest["passed"] == false);
  if (fs::exists(out + "/.cache/blobs"))
    for (const auto& blob : fs::directory_iterator(out + "/.cache/blobs"))
      if (blob.path().filename().string().find(".tmp-") == std::string::npos)
        CHECK(mlopt::sha256_file(blob.path().string()) == blob.path().filename().string());
}

}  // namespace

TEST_CASE("run stress: two runs on one --out never mix their files", "[pipeline][integrity][stress]") {
  const std::string dir = temp_dir("stress-concurrent");
  const std::string file = tiny_pipeline(dir);
  const std::string out = dir + "/out";
  const std::string bin = shell_quote(MLOPT_BINARY);
  for (int round = 0; round < 6; ++round) {
    // Different seeds: different configurations competing for one folder.
    const std::string one = bin + " run " + shell_quote(file) + " -q --out " + shell_quote(out) + " --set seed=" +
                            std::to_string(round) + " --force";
    const std::string two = bin + " run " + shell_quote(file) + " -q --out " + shell_quote(out) + " --set seed=" +
                            std::to_string(round + 100);
    auto r = run_shell("(" + one + " 2>&1; echo rc=$?) & (" + two + " 2>&1; echo rc=$?); wait");
    INFO(r.out);
    // Each run either finished or was turned away by the lock, saying so.
    for (size_t at = r.out.find("rc="); at != std::string::npos; at = r.out.find("rc=", at + 1))
      CHECK((r.out.compare(at, 4, "rc=0") == 0 || r.out.compare(at, 4, "rc=1") == 0));
    if (r.out.find("rc=1") != std::string::npos) CHECK_THAT(r.out, Catch::Contains("is in use by another mlopt process"));
    check_folder(out);
  }
  // Afterwards a plain run restores a consistent folder from the cache.
  REQUIRE(run_mlopt({"run", file, "-q", "--out", out}).exit_code == 0);
  check_folder(out);
}

TEST_CASE("run stress: a run killed at any point leaves a folder that tells the truth", "[pipeline][integrity][stress]") {
  const std::string dir = temp_dir("stress-kill");
  const std::string file = tiny_pipeline(dir);
  const std::string out = dir + "/out";
  REQUIRE(run_mlopt({"run", file, "-q", "--out", out}).exit_code == 0);
  for (int delay_ms : {0, 50, 150, 300, 600, 1000}) {
    run_shell(shell_quote(MLOPT_BINARY) + " run " + shell_quote(file) + " -q --force --out " + shell_quote(out) +
              " --set seed=" + std::to_string(delay_ms) + " & pid=$!; sleep " + std::to_string(delay_ms / 1000.0) +
              "; kill -9 $pid 2>/dev/null; wait $pid");
    INFO("killed after " << delay_ms << " ms");
    check_folder(out);
  }
  REQUIRE(run_mlopt({"run", file, "-q", "--out", out}).exit_code == 0);
  check_folder(out);
  const auto manifest = nlohmann::json::parse(mlopt::read_file(out + "/manifest.json"));
  CHECK(manifest["status"] == "passed");
}
