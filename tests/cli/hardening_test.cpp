// Faults and determinism through the CLI: SIGKILL during a write, SIGINT,
// a full disk (file-size limit), byte-identical artifacts.
#include <catch2/catch.hpp>

#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/hash.h"
#include "support/test_support.h"

using namespace mlopt::test;
namespace fs = std::filesystem;

namespace {
const std::string kModel = test_data("onnx/resnet_tiny.pt");
const std::string kSpec = "x:batch=2x3x32x32";

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}
}  // namespace

TEST_CASE("hardening: the same inputs and seed give byte-identical .onnx, .pt and .ptl files", "[cli][hardening]") {
  std::string dir = temp_dir("determinism");
  for (const char* run : {"a", "b"}) {
    std::string d = dir + "/" + run;
    fs::create_directories(d);
    REQUIRE(run_mlopt({"export-onnx", kModel, "--input", kSpec, "-o", d + "/m.onnx"}).exit_code == 0);
    for (const char* ext : {".pt", ".ptl"})
      REQUIRE(run_mlopt({"prune", test_data("prune/residual_cnn.pt"), "--method", "l1-unstructured", "--amount", "0.5",
                         "--input", "x:1x3x32x32", "--seed", "7", "-o", d + "/p" + ext})
                  .exit_code == 0);
  }
  for (const char* name : {"m.onnx", "p.pt", "p.ptl"}) {
    INFO(name);
    CHECK(mlopt::sha256_file(dir + "/a/" + name) == mlopt::sha256_file(dir + "/b/" + name));
  }
}

TEST_CASE("hardening: SIGKILL at any point of a write leaves the previous artifact intact", "[cli][hardening]") {
  std::string dir = temp_dir("sigkill");
  std::string out = dir + "/model.onnx";
  REQUIRE(run_mlopt({"export-onnx", kModel, "--input", kSpec, "-o", out}).exit_code == 0);
  const std::string original = mlopt::sha256_file(out);
  // Kill the same export at increasing delays, covering start-up, conversion and the write itself.
  for (int delay_ms : {20, 60, 120, 200, 300, 450, 650, 900}) {
    std::string line = "NO_COLOR=1 " + shell_quote(MLOPT_BINARY) + " export-onnx " + shell_quote(kModel) +
                       " --input " + kSpec + " -o " + shell_quote(out) + " & pid=$!; sleep " +
                       std::to_string(delay_ms / 1000.0) + "; kill -9 $pid 2>/dev/null; wait $pid";
    run_shell(line);
    INFO("killed after " << delay_ms << " ms");
    // Exports are deterministic: whether the kill came before or after the rename, the file is whole and the same.
    REQUIRE(fs::exists(out));
    CHECK(mlopt::sha256_file(out) == original);
  }
  for (const auto& name : files_in(dir)) CHECK((name == "model.onnx" || name.rfind("model.onnx.tmp-", 0) == 0));
}

TEST_CASE("hardening: SIGINT stops a run cleanly with exit 130 and no partial artifact", "[cli][hardening]") {
  std::string dir = temp_dir("sigint");
  std::string out = dir + "/pruned.pt";
  std::string line = "NO_COLOR=1 " + shell_quote(MLOPT_BINARY) + " prune " + shell_quote(test_data("prune/digits_cnn.pt")) +
                     " --method channel --amount 0.5 --input x:1x1x8x8 --finetune " +
                     shell_quote(test_data("digits.csv.gz")) + " --reshape 1x8x8 --scale 0.0625 --epochs 100000 -o " +
                     shell_quote(out) + " & pid=$!; sleep 3; kill -INT $pid; wait $pid";
  auto r = run_shell(line);
  CHECK(r.exit_code == 130);
  CHECK_THAT(r.err, Catch::Contains("interrupted"));
  CHECK(files_in(dir).empty());
}

TEST_CASE("hardening: a full disk is an error naming the path, leaving no file", "[cli][hardening]") {
  std::string dir = temp_dir("fulldisk");
  std::string out = dir + "/model.onnx";
  // A 16 KiB file-size limit makes writes fail with EFBIG, as a full disk makes them fail with ENOSPC.
  std::string line = "trap '' XFSZ; ulimit -f 16; NO_COLOR=1 exec " + shell_quote(MLOPT_BINARY) + " export-onnx " +
                     shell_quote(test_data("onnx/example_resnet_small.pt")) + " --input x:batch=1x3x32x32 -o " +
                     shell_quote(out);
  auto r = run_shell("bash -c " + shell_quote(line));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::StartsWith("mlopt: error:") && Catch::Contains(out));
  CHECK_FALSE(fs::exists(out));
}
