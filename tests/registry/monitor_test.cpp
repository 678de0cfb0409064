// `mlopt monitor` with real drift: the published digits model on its own
// validation split (no drift) and on the same split shifted, blurred or with
// the rows of one class only (drift), from .npz, .csv and .jsonl files.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <fstream>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dataset.h"
#include "mlopt/core/tensor_file.h"
#include "registry/digits_release.h"
#include "support/test_support.h"

using nlohmann::json;
using mlopt::test::run_mlopt;

namespace {

mlopt::Dataset digits() {
  mlopt::DataOptions options;
  options.path = mlopt::test::source_path("examples/data/digits.csv.gz");
  options.reshape = "1x8x8";
  options.scale = 0.0625;
  return mlopt::load_dataset(options);
}

void write_csv(const std::string& path, const at::Tensor& x) {
  const at::Tensor flat = x.reshape({x.size(0), -1}).contiguous();
  std::ofstream out(path);
  for (int64_t r = 0; r < flat.size(0); ++r) {
    for (int64_t c = 0; c < flat.size(1); ++c) out << (c ? "," : "") << flat[r][c].item<float>();
    out << "\n";
  }
}

// One KServe v2 request per line, as a client would send them.
void write_jsonl(const std::string& path, const at::Tensor& x) {
  std::ofstream out(path);
  for (int64_t r = 0; r < x.size(0); ++r) {
    const at::Tensor row = x[r].reshape({-1}).contiguous();
    std::vector<float> data(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
    out << json{{"inputs", {{{"name", "x"}, {"shape", {1, 1, 8, 8}}, {"datatype", "FP32"}, {"data", data}}}}}.dump()
        << "\n";
  }
}

}  // namespace

TEST_CASE("monitor: the digits model's own validation split does not drift, shifted, blurred or one-class rows do",
          "[registry][monitor][cli]") {
  const std::string dir = mlopt::test::temp_dir("monitor");
  const std::string repo = dir + "/repo";
  mlopt::test::run_digits(mlopt::test::digits_pipeline(dir, 6), dir + "/out", repo);
  const std::string version = repo + "/digits/1";

  const mlopt::Dataset data = digits();
  const at::Tensor x = data.x_val.contiguous();
  mlopt::save_tensors(dir + "/same.npz", {{"x", x}});
  mlopt::save_tensors(dir + "/train.npz", {{"x", data.x_train.slice(0, 0, 400).contiguous()}});
  mlopt::save_tensors(dir + "/shifted.npz", {{"x", (x + 0.3).clamp(0, 1).contiguous()}});
  write_csv(dir + "/blurred.csv", at::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, /*ceil_mode=*/false, /*count_include_pad=*/true));
  write_jsonl(dir + "/same.jsonl", x);
  write_jsonl(dir + "/one-class.jsonl", x.index({data.y_val == 3}));

  json r = mlopt::test::monitor_report(version, dir + "/same.npz", 0);
  CHECK(r["verdict"] == "no drift");
  CHECK(r["rows"] == 359);
  CHECK(r["figures"][0]["kind"] == "class_psi");
  CHECK(r["figures"][0]["value"].get<double>() == Approx(0).margin(1e-9));
  r = mlopt::test::monitor_report(version, dir + "/same.jsonl", 0);
  CHECK(r["figures"][0]["value"].get<double>() == Approx(0).margin(1e-9));
  r = mlopt::test::monitor_report(version, dir + "/train.npz", 0);  // other rows from the same distribution
  CHECK(r["verdict"] == "no drift");

  r = mlopt::test::monitor_report(version, dir + "/shifted.npz", 3);
  CHECK(r["verdict"] == "drift");
  CHECK(r["figures"][2]["kind"] == "input_shift");
  CHECK(r["figures"][2]["drift"] == true);
  r = mlopt::test::monitor_report(version, dir + "/blurred.csv", 3);
  CHECK(r["verdict"] == "drift");
  r = mlopt::test::monitor_report(version, dir + "/one-class.jsonl", 3);
  CHECK(r["figures"][0]["drift"] == true);
  CHECK(r["figures"][0]["value"].get<double>() > 1);

  // The reports: Markdown for a CI log, HTML with the two distributions charted.
  auto cli = run_mlopt({"monitor", version, "--data", dir + "/one-class.jsonl", "--report", dir + "/drift.html"});
  CHECK(cli.exit_code == 3);
  CHECK_THAT(cli.err, Catch::Contains("drift: output0 class_psi"));
  CHECK_THAT(mlopt::read_file(dir + "/drift.html"), Catch::Contains("<svg") && Catch::Contains("Verdict: drift"));
  cli = run_mlopt({"monitor", version, "--data", dir + "/same.npz", "--report", dir + "/drift.md"});
  CHECK(cli.exit_code == 0);
  CHECK_THAT(mlopt::read_file(dir + "/drift.md"), Catch::Contains("**Verdict: no drift**"));
  // Thresholds from flags override the model's.
  CHECK(run_mlopt({"monitor", version, "--data", dir + "/shifted.npz", "--max-input-shift", "100", "--max-psi", "100",
                   "--max-confidence-shift", "1"})
            .exit_code == 0);
  // Bad input: one line naming the file.
  mlopt::write_file_atomically(dir + "/bad.csv", "1,2,3\n");
  cli = run_mlopt({"monitor", version, "--data", dir + "/bad.csv"});
  CHECK(cli.exit_code == 1);
  CHECK_THAT(cli.err, Catch::Contains("bad.csv: 3 columns per row"));
}
