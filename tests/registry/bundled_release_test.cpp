// The issue's end-to-end case on the bundled pipeline (configs/digits-release.yaml,
// shorter training): two runs publish two versions (int8 served), `serve`
// routes 90/10 between them with per-version metrics, a one-digit request
// stream turns the drift verdict on, and `registry verify` catches a tampered file.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <map>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dataset.h"
#include "registry/digits_release.h"
#include "serve/serve_support.h"
#include "support/test_support.h"

using nlohmann::json;
using namespace mlopt::test;

TEST_CASE("registry: the bundled digits pipeline publishes two versions, served 90/10, drift turns on, verify catches a "
          "tampered file",
          "[registry][serve][cli]") {
  const std::string dir = temp_dir("bundled-release");
  const std::string repo = dir + "/models";
  const std::string config = source_path("configs/digits-release.yaml");
  // Shorter training; tests never gate on time (the latency gate is tested with toy steps).
  run_digits(config, dir + "/out", repo, {"--set", "gates.5.max_p50_latency_ms=1000000", "--set", "steps.train.epochs=2"});
  run_digits(config, dir + "/out", repo, {"--set", "gates.5.max_p50_latency_ms=1000000", "--set", "steps.train.epochs=3"});
  auto r = run_mlopt({"registry", "list", repo, "--json"});
  REQUIRE(r.exit_code == 0);
  const json list = json::parse(r.out);
  REQUIRE(list["models"][0]["model"] == "digits");
  CHECK(list["models"][0]["versions"].size() == 2);
  CHECK(json::parse(mlopt::read_file(repo + "/digits/2/version.json"))["artifact"] == "int8.pt");

  mlopt::DataOptions options;
  options.path = source_path("examples/data/digits.csv.gz");
  options.reshape = "1x8x8";
  options.scale = 0.0625;
  const mlopt::Dataset data = mlopt::load_dataset(options);
  const at::Tensor x = data.x_val.contiguous();

  ServerProcess server({repo, "--split", "digits=1:90,2:10", "--drift-window", "100"});
  const int port = server.port();
  std::map<std::string, int> answered;
  for (int i = 0; i < 100; ++i) {
    const auto reply = http_post(port, "/v2/models/digits/infer", digits_rows_request(x.slice(0, i, i + 1)));
    REQUIRE(reply.status == 200);
    ++answered[model_version_of(reply)];
  }
  CHECK(answered["1"] == 90);
  CHECK(answered["2"] == 10);
  std::string metrics = http_get(port, "/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(mlopt_serve_requests_total{code="200",model="digits",version="1"} 90)"));
  CHECK_THAT(metrics, Catch::Contains(R"(mlopt_serve_requests_total{code="200",model="digits",version="2"} 10)"));
  CHECK_THAT(metrics, Catch::Contains(R"(mlopt_serve_request_duration_seconds_count{model="digits",version="2"} 10)"));
  json drift = json::parse(http_get(port, "/v2/models/digits/drift?version=1").body);
  INFO(drift.dump(1));
  CHECK(drift["versions"][0]["rows"] == 90);
  CHECK(drift["versions"][0]["verdict"] == "no drift");

  // A stream of threes through the split: version 1's window turns to drift.
  const at::Tensor threes = x.index({data.y_val == 3});
  for (int i = 0; i < 20; ++i)
    REQUIRE(http_post(port, "/v2/models/digits/infer", digits_rows_request(threes.slice(0, i % 3 * 10, i % 3 * 10 + 10))).status == 200);
  drift = json::parse(http_get(port, "/v2/models/digits/drift?version=1").body);
  CHECK(drift["versions"][0]["verdict"] == "drift");
  CHECK(drift["versions"][0]["figures"][0]["kind"] == "class_psi");
  CHECK(drift["versions"][0]["figures"][0]["drift"] == true);
  CHECK_THAT(http_get(port, "/metrics").body, Catch::Contains(R"(mlopt_serve_drift{model="digits",version="1"} 1)"));
  CHECK_THAT(server.log(), Catch::Contains("drift on digits:1"));
  CHECK(server.stop(SIGTERM) == 0);

  // A tampered file: verify names it and exits 3.
  CHECK(run_mlopt({"registry", "verify", repo}).exit_code == 0);
  std::string bytes = mlopt::read_file(repo + "/digits/2/int8.pt");
  bytes[bytes.size() / 2] ^= 1;
  mlopt::write_file_atomically(repo + "/digits/2/int8.pt", bytes);
  r = run_mlopt({"registry", "verify", repo, "--json"});
  CHECK(r.exit_code == 3);
  CHECK(json::parse(r.out)["versions"][1]["problems"][0]["file"] == "int8.pt");
}
