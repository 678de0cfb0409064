// Per-tensor or per-channel int8 weights (lib/mlopt/quantize/weight_granularity.h):
// dynamic int8 takes per-channel scales where one scale per tensor would be
// ruined by an outlier weight, as in torchvision's ConvNeXt and Swin heads.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <string>

#include "mlopt/core/model_io.h"
#include "mlopt/quantize/quantize.h"
#include "mlopt/quantize/weight_granularity.h"
#include "onnx/ort_oracle.h"
#include "support/quantize_report.h"
#include "support/test_support.h"

using mlopt::quant::Granularity;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

double sqnr(const at::Tensor& reference, const at::Tensor& got) {
  auto r = reference.to(at::kDouble), g = got.to(at::kDouble);
  return 10 * std::log10(r.pow(2).sum().item<double>() / (r - g).pow(2).sum().item<double>());
}

// Whether a warning starts with `text`.
bool warned(const mlopt::QuantizeResult& r, const std::string& text) {
  for (const auto& w : r.warnings)
    if (w.rfind(text, 0) == 0) return true;
  return false;
}

// How many layers the report gives an output SQNR measured alone.
int measured_alone(const mlopt::QuantizeResult& r) {
  int measured = 0;
  for (const auto& l : r.layers) measured += l.output_sqnr_db != 0;
  return measured;
}

at::Tensor normal_weight(int64_t rows, int64_t cols, double std) {
  auto gen = at::detail::createCPUGenerator(3);
  return at::randn({rows, cols}, gen) * std;
}


mlopt::QuantizeOptions dynamic_options(const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = test_data("quantize_outlier_head.pt");
  o.mode = "dynamic";
  o.engine = "onednn";
  o.inputs = {"x:batch=8x96"};
  o.no_latency = true;
  o.output = out;
  return o;
}

}  // namespace

TEST_CASE("weight granularity: per channel only where one scale per tensor loses much", "[quantize]") {
  auto ordinary = normal_weight(384, 96, 0.02);
  auto outlier = ordinary.clone();
  outlier[17][5] = 2.0;  // LibTorch 1.13's trunc_normal_ at its bound: 100 sigma
  CHECK_FALSE(mlopt::quant::per_channel_weights(ordinary, Granularity::per_channel_for_outliers));
  CHECK(mlopt::quant::per_channel_weights(outlier, Granularity::per_channel_for_outliers));
  CHECK(mlopt::quant::weight_sqnr_db(outlier, false) < 20.0);
  CHECK(mlopt::quant::weight_sqnr_db(outlier, true) > 30.0);
  CHECK(mlopt::quant::per_channel_weights(ordinary, Granularity::per_channel));
  CHECK_FALSE(mlopt::quant::per_channel_weights(outlier, Granularity::per_tensor));

  CHECK(mlopt::quant::weight_granularity("static", false, false) == Granularity::per_channel);
  CHECK(mlopt::quant::weight_granularity("dynamic", false, false) == Granularity::per_channel_for_outliers);
  CHECK(mlopt::quant::weight_granularity("dynamic", true, false) == Granularity::per_tensor);
  CHECK(mlopt::quant::weight_granularity("dynamic", false, true) == Granularity::per_channel);

  auto q = mlopt::quant::quantize_weight_int8(outlier, true);
  CHECK(q.qscheme() == at::kPerChannelAffine);
  CHECK(q.q_per_channel_scales().size(0) == 384);
  CHECK(sqnr(outlier, q.dequantize()) > 30.0);
}

TEST_CASE("quantize: dynamic int8 gives an outlier weight's layer per-channel scales (.pt and .onnx)",
          "[quantize]") {
  auto dir = temp_dir("quantize_weight_granularity");
  auto gen = at::detail::createCPUGenerator(5);
  auto x = at::randn({8, 96}, gen);
  auto float_model = mlopt::load_torchscript(test_data("quantize_outlier_head.pt"));
  auto reference = mlopt::run_module(float_model, {x})[0];

  SECTION("by default only the head, the layer with the outlier, is per channel") {
    auto r = mlopt::quantize(dynamic_options(dir + "/q.pt"), {});
    INFO(r.to_text());
    REQUIRE(r.exit_code == 0);
    CHECK(mlopt::test::layer_named(r, "head").weight_scales == "per-channel");
    CHECK(mlopt::test::layer_named(r, "fc1").weight_scales == "per-tensor");
    CHECK(mlopt::test::layer_named(r, "fc2").weight_scales == "per-tensor");
    CHECK(mlopt::test::layer_named(r, "head").weight_sqnr_db > 30.0);
    CHECK(r.output_sqnr_db > 28.0);
    CHECK(r.quantized_ops == std::vector<std::pair<std::string, int64_t>>{{"quantized::linear_dynamic", 3}});
    auto int8_model = mlopt::load_torchscript(dir + "/q.pt");
    CHECK(sqnr(reference, mlopt::run_module(int8_model, {x})[0]) > 28.0);
  }
  SECTION("--per-tensor gives it one scale, and the output pays for it") {
    auto o = dynamic_options(dir + "/per_tensor.pt");
    o.per_tensor = true;
    o.min_sqnr = 0;
    auto r = mlopt::quantize(o, {});
    INFO(r.to_text());
    REQUIRE(r.exit_code == 0);
    CHECK(mlopt::test::layer_named(r, "head").weight_scales == "per-tensor");
    CHECK(mlopt::test::layer_named(r, "head").weight_sqnr_db < 20.0);
    CHECK(r.output_sqnr_db < 20.0);
  }
  SECTION("dynamic .onnx (MatMulInteger) likewise, checked in ONNX Runtime") {
    mlopt::test::require_ort();
    auto r = mlopt::quantize(dynamic_options(dir + "/q.onnx"), {});
    INFO(r.to_text());
    REQUIRE(r.exit_code == 0);
    CHECK(r.output_sqnr_db > 28.0);
    auto ort = mlopt::test::run_in_ort(dir + "/q.onnx", {{"x", x}}).at(0).second;
    CHECK(sqnr(reference, ort) > 28.0);
  }
}

// The blame of a failed floor (more layer groups than are measured up front)
// stops at --blame-time, the layers with the largest weight error first: here
// layers.23, whose outlier weight one per-tensor scale ruins.
TEST_CASE("quantize: the blame of a failed floor measures layers alone within --blame-time", "[quantize][quality]") {
  auto dir = temp_dir("quantize_blame_time");
  auto o = dynamic_options(dir + "/q.pt");
  o.model.path = test_data("quantize_deep_mlp.pt");
  o.inputs = {"x:batch=4x16"};
  o.per_tensor = true;
  o.min_sqnr = 100;  // fails on any int8 model
  o.blame_seconds = 1e-6;
  auto r = mlopt::quantize(o, {});
  INFO(r.to_text());
  CHECK(r.exit_code == 3);
  CHECK(warned(r, "measured 1 of 40 layer groups alone"));
  CHECK(measured_alone(r) == 1);
  CHECK(mlopt::test::layer_named(r, "layers.23").output_sqnr_db != 0);

  o.blame_seconds = 0;  // no limit: every layer
  r = mlopt::quantize(o, {});
  CHECK(r.exit_code == 3);
  CHECK(measured_alone(r) == 40);
}

// The per-layer output SQNR of a model with few layer groups (measured up front,
// no floor failing) keeps to --blame-time too: each group alone is a build and
// runs, over 15 minutes for ViT-B/16's 26 groups.
TEST_CASE("quantize: layers measured alone up front stop at --blame-time", "[quantize][quality]") {
  auto dir = temp_dir("quantize_measure_time");
  auto o = dynamic_options(dir + "/q.pt");
  o.model.path = test_data("quantize_deep_mlp.pt");
  o.inputs = {"x:batch=4x16"};
  o.skip = {"layers.1*", "layers.2*", "layers.3*"};  // 7 layers left (0, 4-9): under the 32 groups measured up front
  o.blame_seconds = 1e-6;
  auto r = mlopt::quantize(o, {});
  INFO(r.to_text());
  CHECK(r.exit_code == 0);
  CHECK(warned(r, "measured 1 of 7 layer groups alone"));
  CHECK(measured_alone(r) == 1);
}
