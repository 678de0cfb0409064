// `mlopt serve REPO`: two published digits versions behind one endpoint, a
// 90/10 split (sticky per key), per-version metrics, a version published
// while serving, and the drift verdict turning on under a one-class stream.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "mlopt/core/allocator_tuning.h"
#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dataset.h"
#include "registry/digits_release.h"
#include "serve/serve_support.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace mlopt::test;

TEST_CASE("serve: a model repository with a 90/10 split, per-version metrics, new versions and drift",
          "[serve][registry][cli]") {
  const std::string dir = temp_dir("serve-repo");
  const std::string repo = dir + "/repo";
  const std::string pipeline = digits_pipeline(dir);
  run_digits(pipeline, dir + "/out", repo);
  run_digits(pipeline, dir + "/out", repo, {"--set", "steps.train.epochs=6"});

  mlopt::DataOptions options;
  options.path = source_path("examples/data/digits.csv.gz");
  options.reshape = "1x8x8";
  options.scale = 0.0625;
  const mlopt::Dataset data = mlopt::load_dataset(options);
  const at::Tensor x = data.x_val.contiguous();

  ServerProcess server({repo, "--split", "digits=1:90,2:10", "--drift-window", "100", "--poll-ms", "100",
                        "--log-requests", dir + "/requests"});
  const int port = server.port();
  CHECK_THAT(server.log(), Catch::Contains("glibc malloc tuned for a long-lived process") &&
                               Catch::Contains(mlopt::allocator_tuning_env_text()));

  // 100 requests without a key: exactly 90 and 10, each response naming its version.
  std::map<std::string, int> answered;
  for (int i = 0; i < 100; ++i) {
    const auto reply = http_post(port, "/v2/models/digits/infer", digits_rows_request(x.slice(0, i, i + 1)));
    REQUIRE(reply.status == 200);
    const std::string version = model_version_of(reply);
    CHECK(json::parse(reply.body)["model_version"] == version);
    ++answered[version];
  }
  CHECK(answered["1"] == 90);
  CHECK(answered["2"] == 10);
  // A request key keeps a client on one version.
  std::set<std::string> sticky;
  for (int i = 0; i < 10; ++i)
    sticky.insert(model_version_of(http_request(port, "POST", "/v2/models/digits/infer", digits_rows_request(x.slice(0, i, i + 1)),
                                          {{"X-Request-Key", "user-42"}})));
  CHECK(sticky.size() == 1);
  // A pinned version; an unknown one is a 404 naming those served.
  CHECK(model_version_of(http_post(port, "/v2/models/digits/versions/2/infer", digits_rows_request(x.slice(0, 0, 1)))) == "2");
  const auto missing = http_post(port, "/v2/models/digits/versions/7/infer", digits_rows_request(x.slice(0, 0, 1)));
  CHECK(missing.status == 404);
  CHECK_THAT(missing.body, Catch::Contains("versions: 1, 2"));

  const std::string metrics = http_get(port, "/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(mlopt_serve_requests_total{code="200",model="digits",version="1"})"));
  CHECK_THAT(metrics, Catch::Contains(R"(model="digits",version="2")"));
  CHECK_THAT(metrics, Catch::Contains("mlopt_serve_drift_class_psi{"));

  // Version 2's window (100 rows): validation rows, then rows of one class only.
  for (int i = 0; i < 3; ++i)
    REQUIRE(http_post(port, "/v2/models/digits/versions/2/infer", digits_rows_request(x.slice(0, i * 100, i * 100 + 100))).status == 200);
  json drift = json::parse(http_get(port, "/v2/models/digits/drift?version=2").body);
  INFO(drift.dump(1));
  CHECK(drift["verdict"] == "no drift");
  CHECK(drift["versions"][0]["rows"] == 100);
  const at::Tensor threes = x.index({data.y_val == 3});
  for (int sent = 0; sent < 100; sent += threes.size(0))
    REQUIRE(http_post(port, "/v2/models/digits/versions/2/infer", digits_rows_request(threes)).status == 200);
  drift = json::parse(http_get(port, "/v2/models/digits/drift?version=2").body);
  CHECK(drift["verdict"] == "drift");
  CHECK(drift["versions"][0]["figures"][0]["kind"] == "class_psi");
  CHECK(drift["versions"][0]["figures"][0]["drift"] == true);
  CHECK_THAT(http_get(port, "/metrics").body, Catch::Contains(R"(mlopt_serve_drift{model="digits",version="2"} 1)"));

  // A broken version is skipped; a version published while serving is picked up.
  fs::create_directories(repo + "/digits/3");
  mlopt::write_file_atomically(repo + "/digits/3/version.json", R"({"artifact": "model.pt", "files": {}})");
  mlopt::write_file_atomically(repo + "/digits/3/model.pt", "not a model");
  auto r = run_mlopt({"publish", dir + "/out", repo, "--threads", "1"});
  REQUIRE(r.exit_code == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = http_post(port, "/v2/models/digits/versions/4/infer", digits_rows_request(x.slice(0, 0, 1))).status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(status == 200);
  CHECK_THAT(server.log(), Catch::Contains("digits:3 not served"));
  CHECK(http_post(port, "/v2/models/digits/infer", digits_rows_request(x.slice(0, 0, 1))).status == 200);
  CHECK(server.stop(SIGTERM) == 0);

  // What serve logged is what monitor reads: version 2's stream ended in one class.
  r = run_mlopt({"monitor", repo + "/digits/2", "--data", dir + "/requests/digits-2.jsonl", "--json"});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(json::parse(r.out)["rows"].get<int>() > 400);
}
