// The release report says what matters: an optimized artifact slower than the
// baseline is flagged loudly (and the opt-in gate not_slower_than_baseline fails
// the run on it); latencies timed through the built-in ONNX evaluator are
// labelled as reference-path figures and not compared with the baseline.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/pipeline/gates.h"
#include "mlopt/pipeline/reports.h"
#include "mlopt/pipeline/run.h"
#include "pipeline/toy_steps.h"
#include "support/test_support.h"

using namespace mlopt;
using mlopt::test::temp_dir;
using mlopt::test::toy::write;

namespace {

// `slow` is its baseline `base` plus one line: a larger file, so a larger toy
// p50 (size / 100 ms), about 0.6x the baseline's speed.
RunOptions slower_pipeline(const std::string& dir, bool gate) {
  write(dir, "model.pt", "toy model\n");
  RunOptions o;
  o.pipeline = write(dir, "toy.yaml", fmt::format(R"(name: toy
model: model.pt
inputs: [x:1x4]
baseline: base
steps:
  - name: base
    type: toy-transform
  - name: slow
    type: toy-transform
    from: base
    factor: 2
  - name: measure
    type: toy-measure
    from: [base, slow]
gates:
  - artifact: slow
    max_file_size: 100000
{})",
                                                  gate ? "  - {artifact: slow, not_slower_than_baseline: true}" : ""));
  o.out = dir + "/out";
  return o;
}

nlohmann::json artifact(const std::string& step, const std::string& format, double p50, bool reference_path) {
  return {{"path", step + "." + format},
          {"step", step},
          {"format", format},
          {"size", 1000.0},
          {"metrics", {{"latency_ms", {{"p50", p50}}}, {"reference_path", reference_path}}}};
}

}  // namespace

TEST_CASE("release report: an artifact slower than the baseline is flagged loudly, with the gate that fails on it",
          "[pipeline]") {
  const std::string dir = temp_dir("report-slower");
  auto r = run_pipeline(slower_pipeline(dir, false), {});
  REQUIRE(r.passed());  // flagged, not failed: the gate is opt-in
  const std::string md = read_file(dir + "/out/report.md");
  CHECK_THAT(md, Catch::Contains("SLOWER THAN THE BASELINE: slow") &&
                     Catch::Contains("not_slower_than_baseline: true") && Catch::Contains("⚠️ SLOWER"));
  CHECK_THAT(read_file(dir + "/out/report.html"), Catch::Contains("SLOWER"));
}

TEST_CASE("release report: the opt-in gate not_slower_than_baseline fails the run on a slower artifact", "[pipeline]") {
  auto r = run_pipeline(slower_pipeline(temp_dir("report-slower-gate"), true), {});
  CHECK_FALSE(r.passed());
  REQUIRE(r.failed_gates().size() == 1);
  CHECK(r.failed_gates()[0]->name == "slow: not slower than the baseline");
  CHECK(r.status() == "failed");
}

TEST_CASE("release report: reference-evaluator latencies are labelled and not compared with the baseline",
          "[pipeline]") {
  pipeline::Plan plan;
  RunResult result;
  result.baseline = "train";
  const nlohmann::json artifacts = nlohmann::json::array(
      {artifact("train", "torchscript", 1.0, false), artifact("int8", "torchscript", 2.0, false),
       artifact("onnx", "onnx", 5.0, true), artifact("fp16", "torchscript", 0.97, false)});
  const std::map<std::string, nlohmann::json> steps;
  pipeline::ReportInputs in{plan, result, artifacts, artifacts[0]["metrics"], steps};
  auto rows = pipeline::report_rows(in);
  REQUIRE(rows.size() == 4);
  CHECK_FALSE(rows[0].slower);  // the baseline itself
  CHECK(rows[1].slower);        // 0.5x the baseline's speed
  CHECK(*rows[1].speedup == Approx(0.5));
  CHECK(rows[2].reference_path);
  CHECK_FALSE(rows[2].speedup.has_value());  // a reference path is not compared
  CHECK_FALSE(rows[2].slower);
  CHECK_FALSE(rows[3].slower);  // within the 5% that separately profiled figures differ by
  auto warnings = pipeline::report_warnings(rows, "train");
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[0], Catch::Contains("SLOWER THAN THE BASELINE: int8.torchscript is 0.50x the speed of train"));
  CHECK_THAT(warnings[1], Catch::Contains("reference evaluator") && Catch::Contains("not a runtime"));
}
