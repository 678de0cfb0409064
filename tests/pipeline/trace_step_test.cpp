// The pipeline step `trace`: the source model traced on the pipeline's inputs,
// then verified against the source like any other model step.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

TEST_CASE("pipeline: a trace step writes a traced .pt that verifies against the source", "[pipeline][trace]") {
  const std::string dir = temp_dir("trace-step");
  const std::string config = dir + "/trace.yaml";
  std::ofstream(config) << "name: traced\n"
                        << "model: {path: " << test_data("trace/cnn.pt") << "}\n"
                        << "inputs:\n  - {name: x, shape: [batch=1, 3, 8, 8]}\n"
                        << "steps:\n"
                        << "  - {name: traced, type: trace, check_inputs: 2}\n"
                        << "  - {name: check, type: verify, from: traced, reference: source}\n";
  auto r = run_mlopt({"run", config, "--out", dir + "/out", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["passed"] == true);
  CHECK(std::filesystem::exists(dir + "/out/traced.pt"));
  // The manifest's signature comes from running the artifact (lib/mlopt/runtime): the batch stays dynamic.
  const auto manifest = nlohmann::json::parse(mlopt::read_file(dir + "/out/manifest.json"));
  bool found = false;
  for (const auto& a : manifest["artifacts"])
    if (a["path"] == "traced.pt") {
      found = true;
      CHECK(a["signature"]["outputs"][0]["shape"][0] == "batch");
    }
  CHECK(found);
  // An option the step does not have is refused with the closest one.
  std::ofstream(config) << "name: traced\n"
                        << "model: {path: " << test_data("trace/cnn.pt") << "}\n"
                        << "steps:\n  - {type: trace, check_input: 2}\n";
  auto bad = run_mlopt({"run", config, "--dry-run"});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("unknown key 'check_input' (did you mean 'check_inputs'?)"));
}
