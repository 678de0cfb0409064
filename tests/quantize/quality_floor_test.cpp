// quantize: a badly wrong artifact (output SQNR or top-1 agreement under the
// floors) is exit 3 with the layers to blame and is not written; NaN/Inf in
// the data is a one-line error, never "nan dB" with exit 0.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/quantize/quality_check.h"
#include "mlopt/quantize/quantize.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

// Calibration data 1000x wider than the eval data: every activation scale is
// far too coarse for the inputs the artifact is measured on.
struct BadCalibration {
  std::string dir, calibration, eval;
};

BadCalibration bad_calibration() {
  BadCalibration b;
  b.dir = temp_dir("quantize_floor");
  b.calibration = b.dir + "/wide.npz";
  b.eval = b.dir + "/normal.npz";
  auto gen = at::detail::createCPUGenerator(3);
  mlopt::save_tensors(b.calibration, {{"x", at::randn({64, 3, 16, 16}, gen) * 1000.0}});
  mlopt::save_tensors(b.eval, {{"x", at::randn({64, 3, 16, 16}, gen)}});
  return b;
}

std::vector<std::string> bad_args(const BadCalibration& b, const std::string& out) {
  return {"quantize", test_data("quantize_bn/resnet.pt"), "--mode",  "static",  "--observer", "minmax",
          "--per-tensor", "--calibration", b.calibration, "--val-split", "0", "--eval", b.eval,
          "--no-latency", "--json", "-o", out};
}

}  // namespace

TEST_CASE("quantize: an artifact under the SQNR / top-1 floors is exit 3 with the blame, and not written",
          "[quantize][quality]") {
  auto b = bad_calibration();
  auto out = b.dir + "/bad.pt";
  auto r = run_mlopt(bad_args(b, out));
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK_FALSE(mlopt::file_exists(out));
  auto j = nlohmann::json::parse(r.out);
  CHECK_FALSE(j["quality"]["ok"].get<bool>());
  CHECK(j["quality"]["output_sqnr_db"].get<double>() < 15.0);
  CHECK(j["quality"]["min_sqnr_db"].get<double>() == 15.0);
  const auto failure = j["quality"]["failure"].get<std::string>();
  CHECK_THAT(failure, Catch::Contains("is under --min-sqnr 15 dB") && Catch::Contains("worst layers quantized alone: "));
  CHECK_THAT(r.err, Catch::Contains("badly wrong"));
  // The layers' output SQNR alone is in the report (the blame; a layer whose int8 output is all zeros
  // measures exactly 0 dB, which the report leaves out).
  int measured = 0;
  for (const auto& l : j["layers"]) measured += l.contains("output_sqnr_db_alone");
  CHECK(measured >= 3);

  // The same for ONNX outputs.
  auto onnx_args = bad_args(b, b.dir + "/bad.onnx");
  onnx_args.insert(onnx_args.end(), {"--input", "x:batch=8x3x16x16"});
  auto onnx = run_mlopt(onnx_args);
  CHECK(onnx.exit_code == 3);
  CHECK_FALSE(mlopt::file_exists(b.dir + "/bad.onnx"));
  CHECK_THAT(onnx.err, Catch::Contains("is under --min-sqnr 15 dB"));

  // Lowered floors: the user's call; written, exit 0.
  auto args = bad_args(b, out);
  args.insert(args.end(), {"--min-sqnr", "0", "--min-top1", "0"});
  auto kept = run_mlopt(args);
  CHECK(kept.exit_code == 0);
  CHECK(mlopt::file_exists(out));
}

TEST_CASE("quantize: top-1 agreement is a floor for classifiers on enough samples", "[quantize][quality]") {
  using mlopt::quant_support::measure_quality;
  mlopt::QuantizeOptions o;
  auto logits = at::eye(20).repeat({2, 1});  // 40 samples, classes 0..19 twice
  auto flipped = logits.flip({1});           // every top-1 differs
  auto q = measure_quality({logits}, {flipped});
  CHECK(q.classifier);
  CHECK(q.samples == 40);
  CHECK(q.top1_agreement == 0.0);
  CHECK_FALSE(mlopt::quant_support::quality_passes(o, q));
  o.min_sqnr = 0;
  o.min_top1 = 0;
  CHECK(mlopt::quant_support::quality_passes(o, q));
  // Too few samples to judge top-1; not a classifier output.
  auto few = measure_quality({logits.slice(0, 0, 4)}, {logits.slice(0, 0, 4) * 1.001});
  mlopt::QuantizeOptions defaults;
  CHECK(mlopt::quant_support::quality_passes(defaults, few));
  auto maps = measure_quality({at::ones({2, 3, 4, 4})}, {at::ones({2, 3, 4, 4})});
  CHECK_FALSE(maps.classifier);
  // NaN in the quantized output: never a number of dB.
  auto nan = logits.clone();
  nan[0][0] = std::numeric_limits<float>::quiet_NaN();
  auto bad = measure_quality({logits}, {nan});
  CHECK(bad.nonfinite == 1);
  CHECK(std::isnan(bad.sqnr_db));
  CHECK_FALSE(mlopt::quant_support::quality_passes(o, bad));
}

TEST_CASE("quantize: the top-1 floor reads the samples whose float top-1 is clear, not near ties",
          "[quantize][quality]") {
  using mlopt::quant_support::clear_samples;
  using mlopt::quant_support::measure_quality;
  using mlopt::quant_support::quality_passes;
  // 32 samples over 10 classes; float's top-1 leads its runner-up by 0.01 (a near tie, as random inputs give)
  // on the first 16 and by 2 on the last 16. The int8 output swaps the two leaders of every near tie.
  auto f = at::zeros({32, 10});
  for (int64_t i = 0; i < 32; ++i) {
    f[i][i % 10] = 3.0;
    f[i][(i + 1) % 10] = i < 16 ? 2.99 : 1.0;
  }
  auto q = f.clone();
  for (int64_t i = 0; i < 16; ++i) {
    q[i][i % 10] = 2.99;
    q[i][(i + 1) % 10] = 3.0;
  }
  auto quality = measure_quality({f}, {q});
  CHECK(quality.top1_agreement == 0.5);
  mlopt::QuantizeOptions o;  // --min-sqnr 15, --min-top1 0.9
  auto clear = clear_samples(quality, o.min_sqnr);
  CHECK(clear.samples == 16);
  CHECK(clear.agreement == 1.0);
  CHECK(quality.sqnr_db > 40);
  CHECK(quality_passes(o, quality));  // the flips are near ties: the output is 40+ dB from float
  // The same flips on clear leads fail the floor.
  auto q_clear = q.clone();
  for (int64_t i = 16; i < 32; ++i) {
    q_clear[i][i % 10] = 1.0;
    q_clear[i][(i + 1) % 10] = 3.0;
  }
  o.min_sqnr = 0;  // the SQNR floor alone would not catch it here; top-1 must
  auto failed = measure_quality({f}, {q_clear});
  CHECK(clear_samples(failed, 0).samples == 32);
  CHECK_FALSE(quality_passes(o, failed));
  // With the SQNR floor off, every sample counts: the near-tie flips alone fail the 90% floor.
  CHECK_FALSE(quality_passes(o, quality));
  // The report says which samples the floor read, and why a handful is not enough.
  mlopt::QuantizeResult r;
  mlopt::QuantizeOptions defaults;
  defaults.output = "q.pt";
  CHECK(mlopt::quant_support::apply_quality_floors(r, defaults, measure_quality({f.slice(0, 0, 20)}, {q.slice(0, 0, 20)})));
  CHECK(r.top1_clear_samples == 4);
  CHECK_THAT(r.to_text(), Catch::Contains("20.0% of 20 samples; 100.0% of the 4 whose float top-1 is clear (too few"));
}

TEST_CASE("quantize: NaN or Inf in calibration or eval data is a one-line error naming the data set",
          "[quantize][quality]") {
  auto dir = temp_dir("quantize_nan");
  auto x = at::randn({32, 3, 16, 16});
  x[5][1][2][3] = std::numeric_limits<float>::quiet_NaN();
  mlopt::save_tensors(dir + "/nan.npz", {{"x", x}});
  for (const char* flag : {"--calibration", "--eval"}) {
    INFO(flag);
    auto r = run_mlopt({"quantize", test_data("quantize_bn/resnet.pt"), "--mode", "static", flag, dir + "/nan.npz",
                        "--val-split", "0", "--no-latency", "-o", dir + "/nan.pt"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("data '" + dir + "/nan.npz': 1 NaN/Inf value(s) (first in sample 5)"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(mlopt::file_exists(dir + "/nan.pt"));
  }
}

TEST_CASE("quantize: --min-top1 outside [0, 1] is a usage error", "[quantize][quality]") {
  auto dir = temp_dir("quantize_floor_usage");
  auto r = run_mlopt({"quantize", test_data("quantize_bn/resnet.pt"), "--min-top1", "90", "-o", dir + "/a.pt"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--min-top1 90: expected a fraction in [0, 1]"));
}
