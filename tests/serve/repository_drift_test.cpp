// `mlopt serve REPO` watching a regressor: the drift window and thresholds
// come from the pipeline's `publish: monitor:` section, shifted requests turn
// the value-quantile figure on, a drifting version warns once per window, and
// a version that fails to load (even promoted) leaves the one serving alone.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dataset.h"
#include "registry/digits_release.h"
#include "serve/serve_support.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace mlopt::test;

namespace {

const json& figure(const json& report, const std::string& kind) {
  for (const auto& f : report["figures"])
    if (f["kind"] == kind) return f;
  FAIL("no figure " << kind << " in " << report.dump());
  throw;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Polls `done` until it holds or 60 s pass (a repository is re-read every --poll-ms).
template <class F>
bool eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace

TEST_CASE("serve: a regressor's drift window, thresholds from the pipeline, one warning per window, a broken new version",
          "[serve][registry][cli]") {
  const std::string dir = temp_dir("serve-regressor");
  const std::string repo = dir + "/repo";
  run_digits(regressor_pipeline(), dir + "/out", repo);

  mlopt::DataOptions options;
  options.path = source_path("examples/data/digits.csv.gz");
  options.reshape = "1x8x8";
  options.scale = 0.0625;
  const at::Tensor x = mlopt::load_dataset(options).x_val.contiguous();
  const at::Tensor shifted = (x + 0.3).clamp(0, 1).contiguous();

  ServerProcess server({repo, "--poll-ms", "100"});
  const int port = server.port();
  const std::string drift_url = "/v2/models/regressor/drift?version=1";

  // 100 validation rows fill the window (100: the pipeline's publish.monitor.window).
  for (int i = 0; i < 5; ++i)
    REQUIRE(http_post(port, "/v2/models/regressor/infer", digits_rows_request(x.slice(0, i * 20, i * 20 + 20))).status == 200);
  json drift = json::parse(http_get(port, drift_url).body)["versions"][0];
  INFO(drift.dump(1));
  CHECK(drift["thresholds"]["window"] == 100);
  CHECK(drift["thresholds"]["max_psi"] == 0.3);
  CHECK(drift["rows"] == 100);
  CHECK(drift["verdict"] == "no drift");
  CHECK(figure(drift, "value_psi")["drift"] == false);
  CHECK(count(server.log(), "drift on regressor:1") == 0);

  // 300 shifted rows in requests of 20: the verdict turns on within the first
  // 100, then one warning per 100 rows while it stays on: 3 in all.
  for (int i = 0; i < 15; ++i) {
    const int64_t start = (i * 20) % 340;
    REQUIRE(http_post(port, "/v2/models/regressor/infer", digits_rows_request(shifted.slice(0, start, start + 20))).status == 200);
  }
  drift = json::parse(http_get(port, drift_url).body)["versions"][0];
  CHECK(drift["verdict"] == "drift");
  CHECK(figure(drift, "value_psi")["drift"] == true);
  CHECK(drift["current"]["outputs"][0]["quantiles"].contains("p50"));
  const std::string log = server.log();
  INFO(log);
  CHECK(count(log, "drift on regressor:1") == 3);
  CHECK_THAT(log, Catch::Contains("output0 value_psi"));
  const std::string metrics = http_get(port, "/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(mlopt_serve_drift_value_psi{model="regressor",version="1",subject="output0"})"));
  CHECK_THAT(metrics, Catch::Contains(R"(mlopt_serve_drift{model="regressor",version="1"} 1)"));

  // A version that cannot load, even promoted, is logged and skipped: version 1 keeps serving, window and all.
  fs::create_directories(repo + "/regressor/2");
  mlopt::write_file_atomically(repo + "/regressor/2/model.pt", "not a model");
  mlopt::write_file_atomically(repo + "/regressor/2/version.json", R"({"artifact": "model.pt", "files": {}})");
  REQUIRE(run_mlopt({"registry", "promote", repo, "regressor:2"}).exit_code == 0);
  CHECK(eventually([&] { return server.log().find("regressor:2 not served") != std::string::npos; }));
  const auto answer = http_post(port, "/v2/models/regressor/infer", digits_rows_request(x.slice(0, 0, 1)));
  CHECK(answer.status == 200);
  CHECK(model_version_of(answer) == "1");
  CHECK(http_post(port, "/v2/models/regressor/versions/2/infer", digits_rows_request(x.slice(0, 0, 1))).status == 404);
  drift = json::parse(http_get(port, drift_url).body)["versions"][0];
  CHECK(drift["rows"] == 100);
  CHECK(drift["verdict"] == "drift");

  // A good version published and promoted while serving takes over, without a restart.
  REQUIRE(run_mlopt({"publish", dir + "/out", repo, "--threads", "1"}).exit_code == 0);
  REQUIRE(run_mlopt({"registry", "promote", repo, "regressor:3"}).exit_code == 0);
  CHECK(eventually([&] {
    return model_version_of(http_post(port, "/v2/models/regressor/infer", digits_rows_request(x.slice(0, 0, 1)))) == "3";
  }));
  CHECK(server.stop(SIGTERM) == 0);
}
