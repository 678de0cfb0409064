// `mlopt monitor` on a regressor: the published digits regressor (one value
// per row) on its own validation split (no drift) and on the same split
// shifted or with the rows of one digit only (drift), judged by the value
// quantiles of its baseline; the thresholds come from the pipeline's
// `publish: monitor:` section.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dataset.h"
#include "mlopt/core/tensor_file.h"
#include "registry/digits_release.h"
#include "support/test_support.h"

using nlohmann::json;
using mlopt::test::run_mlopt;

namespace {

const json* figure(const json& report, const std::string& kind) {
  for (const auto& f : report["figures"])
    if (f["kind"] == kind) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("monitor: a regressor's validation split does not drift, shifted or one-digit rows move its value quantiles",
          "[registry][monitor][cli]") {
  const std::string dir = mlopt::test::temp_dir("monitor-regressor");
  const std::string repo = dir + "/repo";
  mlopt::test::run_digits(mlopt::test::regressor_pipeline(), dir + "/out", repo);
  const std::string version = repo + "/regressor/1";

  // The baseline: value quantiles and decile bins of the output; the thresholds of the pipeline.
  const json baseline = json::parse(mlopt::read_file(version + "/baseline.json"));
  const json& out = baseline["outputs"][0];
  CHECK(out["kind"] == "regressor");
  CHECK(out["quantiles"]["p5"].get<double>() < out["quantiles"]["p50"].get<double>());
  CHECK(out["quantiles"]["p50"].get<double>() < out["quantiles"]["p95"].get<double>());
  CHECK(out["value_bins"]["edges"].size() == 9);
  CHECK(baseline["thresholds"]["max_psi"] == 0.3);
  CHECK(baseline["thresholds"]["window"] == 100);
  const json manifest = json::parse(mlopt::read_file(version + "/version.json"));
  CHECK(manifest["thresholds"]["max_psi"] == 0.3);

  mlopt::DataOptions options;
  options.path = mlopt::test::source_path("examples/data/digits.csv.gz");
  options.reshape = "1x8x8";
  options.scale = 0.0625;
  const mlopt::Dataset data = mlopt::load_dataset(options);
  const at::Tensor x = data.x_val.contiguous();
  mlopt::save_tensors(dir + "/same.npz", {{"x", x}});
  mlopt::save_tensors(dir + "/shifted.npz", {{"x", (x + 0.3).clamp(0, 1).contiguous()}});
  mlopt::save_tensors(dir + "/zeros.npz", {{"x", x.index({data.y_val == 0}).contiguous()}});

  json r = mlopt::test::monitor_report(version, dir + "/same.npz", 0);
  CHECK(r["verdict"] == "no drift");
  CHECK(r["thresholds"]["max_psi"] == 0.3);  // the pipeline's, not the default 0.2
  REQUIRE(figure(r, "value_psi"));
  CHECK((*figure(r, "value_psi"))["value"].get<double>() == Approx(0).margin(1e-9));
  CHECK((*figure(r, "output_shift"))["value"].get<double>() == Approx(0).margin(1e-6));

  r = mlopt::test::monitor_report(version, dir + "/shifted.npz", 3);
  CHECK(r["verdict"] == "drift");
  CHECK((*figure(r, "value_psi"))["drift"] == true);
  // One digit only: the inputs barely move, the output's values do.
  r = mlopt::test::monitor_report(version, dir + "/zeros.npz", 3);
  CHECK((*figure(r, "value_psi"))["drift"] == true);
  CHECK((*figure(r, "value_psi"))["value"].get<double>() > 1);
  CHECK(r["current"]["outputs"][0]["quantiles"]["p50"].get<double>() < out["quantiles"]["p25"].get<double>());

  // The reports: the quantiles side by side, and the value bins charted in HTML.
  auto cli = run_mlopt({"monitor", version, "--data", dir + "/zeros.npz", "--report", dir + "/drift.html"});
  CHECK(cli.exit_code == 3);
  CHECK_THAT(cli.err, Catch::Contains("drift: output0"));
  CHECK_THAT(cli.out, Catch::Contains("output0 value_psi"));
  const std::string html = mlopt::read_file(dir + "/drift.html");
  CHECK_THAT(html, Catch::Contains("<svg") && Catch::Contains("values in the baseline's decile bins"));
  cli = run_mlopt({"monitor", version, "--data", dir + "/same.npz", "--report", dir + "/drift.md"});
  CHECK(cli.exit_code == 0);
  CHECK_THAT(mlopt::read_file(dir + "/drift.md"), Catch::Contains("| p50 |") && Catch::Contains("**Verdict: no drift**"));
  // A flag overrides the pipeline's threshold.
  CHECK(run_mlopt({"monitor", version, "--data", dir + "/zeros.npz", "--max-psi", "100", "--max-input-shift", "100",
                   "--max-output-shift", "100"})
            .exit_code == 0);
}
