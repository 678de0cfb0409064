// `mlopt run --publish`, `mlopt publish` and `mlopt registry` through the CLI
// on a trained digits release.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "mlopt/core/atomic_write.h"
#include "mlopt/registry/repository.h"
#include "registry/digits_release.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using mlopt::test::run_mlopt;

TEST_CASE("registry: run --publish makes versions, and list, show, diff, promote, verify read them", "[registry][cli]") {
  const std::string dir = mlopt::test::temp_dir("publish");
  const std::string repo = dir + "/repo";
  const std::string pipeline = mlopt::test::digits_pipeline(dir);
  auto r = mlopt::test::run_digits(pipeline, dir + "/out", repo, {"--json"});
  CHECK(json::parse(r.out)["published"]["version"] == "1");
  // The same release again, trained longer: version 2.
  mlopt::test::run_digits(pipeline, dir + "/out", repo, {"--set", "steps.train.epochs=6"});

  const fs::path v1 = fs::path(repo) / "digits" / "1";
  for (const char* file : {"version.json", "baseline.json", "train.pt", "model.pt", "manifest.json", "report.md"})
    CHECK(fs::exists(v1 / file));
  CHECK_FALSE(fs::exists(v1 / ".cache"));
  const json manifest = json::parse(mlopt::read_file((v1 / "version.json").string()));
  CHECK(manifest["artifact"] == "train.pt");
  CHECK(manifest["files"].contains("train.pt"));
  CHECK(manifest["files"]["baseline.json"]["sha256"].get<std::string>().size() == 64);
  CHECK(manifest["versions"]["libtorch"] != "");
  CHECK(manifest["versions"]["mlopt"] != "");
  CHECK(manifest["versions"]["onnx"] != "");
  CHECK(manifest["metrics"]["accuracy"].get<double>() > 0.8);
  CHECK(manifest["gates"].is_array());
  CHECK(manifest["config"]["name"] == "digits-small");
  CHECK(manifest["created_by"].get<std::string>().find('@') != std::string::npos);
  CHECK(manifest["thresholds"]["max_psi"] == 0.2);  // the defaults: the pipeline sets none
  const json baseline = json::parse(mlopt::read_file((v1 / "baseline.json").string()));
  CHECK(baseline["data"]["split"] == "validation");
  CHECK(baseline["data"]["rows"] == 359);
  CHECK(baseline["outputs"][0]["kind"] == "classifier");
  CHECK(baseline["outputs"][0]["classes"] == 10);
  CHECK(baseline["outputs"][0]["class_distribution"].size() == 10);
  CHECK(baseline["outputs"][0]["confidence_histogram"].size() == 10);
  CHECK(baseline["outputs"][0]["mean_confidence"].get<double>() > 0.5);
  CHECK(baseline["inputs"][0]["std"].get<double>() > 0);
  CHECK(baseline["inputs"][0]["shape"] == json::array({1, 8, 8}));
  CHECK(baseline["inputs"][0]["quantiles"].contains("p50"));

  r = run_mlopt({"registry", "list", repo, "--json"});
  REQUIRE(r.exit_code == 0);
  json list = json::parse(r.out);
  CHECK(list["models"][0]["model"] == "digits");
  CHECK(list["models"][0]["versions"].size() == 2);
  CHECK(list["models"][0]["default"] == "2");

  r = run_mlopt({"registry", "show", repo, "digits:1"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("train.pt") && Catch::Contains("accuracy"));
  r = run_mlopt({"registry", "show", repo, "digits:1", "--json"});
  REQUIRE(r.exit_code == 0);
  const json shown = json::parse(r.out);
  CHECK(shown["created_by"] == manifest["created_by"]);
  CHECK(shown["metrics"].contains("accuracy"));
  CHECK(shown["config"]["steps"].is_array());

  r = run_mlopt({"registry", "diff", repo, "digits:1", "digits:2", "--json"});
  REQUIRE(r.exit_code == 0);
  const json diff = json::parse(r.out);
  CHECK(diff["config"]["steps.train.epochs"]["a"] == 4);
  CHECK(diff["config"]["steps.train.epochs"]["b"] == 6);
  CHECK(diff["metrics"].contains("accuracy"));
  CHECK(diff["metrics"].contains("size"));

  r = run_mlopt({"registry", "promote", repo, "digits:1", "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["promoted"] == "1");
  CHECK(mlopt::registry::default_version(repo, "digits") == "1");

  r = run_mlopt({"registry", "verify", repo});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  // One flipped byte in a published model: verify names it and exits 3.
  std::string bytes = mlopt::read_file((v1 / "train.pt").string());
  bytes[bytes.size() / 2] ^= 1;
  mlopt::write_file_atomically((v1 / "train.pt").string(), bytes);
  r = run_mlopt({"registry", "verify", repo, "--json"});
  CHECK(r.exit_code == 3);
  const json verdict = json::parse(r.out);
  CHECK(verdict["passed"] == false);
  CHECK(verdict["versions"][0]["problems"][0]["file"] == "train.pt");
  CHECK(run_mlopt({"registry", "verify", repo, "digits:2"}).exit_code == 0);
  CHECK(run_mlopt({"registry", "frobnicate", repo}).exit_code == 2);
}

TEST_CASE("registry: concurrent publishes get different versions, and a failed one leaves nothing", "[registry][cli]") {
  const std::string dir = mlopt::test::temp_dir("publish");
  const std::string repo = dir + "/repo";
  const std::string pipeline = mlopt::test::digits_pipeline(dir);
  mlopt::test::run_digits(pipeline, dir + "/out");
  const std::string mlopt_bin = mlopt::test::shell_quote(MLOPT_BINARY);
  const std::string publish = mlopt_bin + " publish " + mlopt::test::shell_quote(dir + "/out") + " " +
                              mlopt::test::shell_quote(repo) + " --threads 1 -q";
  auto r = mlopt::test::run_shell(publish + " & " + publish + " & " + publish + " & wait");
  INFO(r.err);
  CHECK(mlopt::registry::list_versions(repo, "digits") == std::vector<std::string>{"1", "2", "3"});
  CHECK(run_mlopt({"registry", "verify", repo}).exit_code == 0);

  // A run that fails a gate is not published (its own output folder: the release above stays as it is).
  r = run_mlopt({"run", pipeline, "--out", dir + "/out-gated", "--publish", repo, "--set",
                 "gates=[{artifact: train, max_file_size: 1KB}]"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("not published"));
  CHECK(mlopt::registry::list_versions(repo, "digits").size() == 3);
  // An explicit version is never overwritten.
  r = run_mlopt({"publish", dir + "/out", repo, "--version", "2"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("version 2 of 'digits' exists"));
  // A baseline that cannot be measured (bad data) fails the publish, leaving no version and no staging folder.
  mlopt::write_file_atomically(dir + "/bad.csv", "1,2,3\n4,5\n");
  r = run_mlopt({"publish", dir + "/out", repo, "--version", "9", "--data", dir + "/bad.csv"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("bad.csv"));
  std::set<std::string> entries;
  for (const auto& e : fs::directory_iterator(fs::path(repo) / "digits")) entries.insert(e.path().filename().string());
  CHECK(entries == std::set<std::string>{"1", "2", "3"});
  // --version and --model name a version.
  r = run_mlopt({"publish", dir + "/out", repo, "--version", "1.4.0", "--model", "digits-b", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["dir"] == repo + "/digits-b/1.4.0");
}
