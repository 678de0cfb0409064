// quantize: real int8 / half-precision artifacts checked against the float
// model they came from (fixtures: tests/fixtures/make_quantize_fixtures.py).
#include <catch2/catch.hpp>

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/quantize/engine.h"
#include "mlopt/quantize/int8_passes.h"
#include "mlopt/quantize/observers.h"
#include "mlopt/quantize/quantize.h"
#include "quantize/quantized_ops.h"
#include "support/test_support.h"

using mlopt::test::count_op;
using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

mlopt::QuantizeOptions digits_options(const std::string& model, const std::string& mode, const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = test_data(model);
  o.mode = mode;
  o.calibration = test_data("digits.csv.gz");
  o.eval = test_data("digits.csv.gz");
  o.data.reshape = "1x8x8";
  o.data.scale = 0.0625;
  o.no_latency = true;
  o.output = out;
  return o;
}

std::string graph_text(const std::string& path) {
  auto m = mlopt::load_torchscript(path);
  return m.get_method("forward").graph()->toString();
}

}  // namespace

TEST_CASE("quantize: static int8 digits CNN keeps top-1 within 1 point, with fused int8 kernels", "[quantize]") {
  auto out = temp_dir("quantize") + "/cnn_static.pt";
  auto r = mlopt::quantize(digits_options("quantize_digits_cnn.pt", "static", out), {});
  CHECK(r.exit_code == 0);
  REQUIRE(r.has_accuracy);
  CHECK(r.accuracy_metric == "top1");
  CHECK(r.eval_samples == 359);
  CHECK(r.accuracy_before > 97.0);
  CHECK(r.accuracy_before - r.accuracy_after <= 1.0);
  CHECK(r.output_sqnr_db > 25.0);
  // Conv+ReLU fused, per-channel int8 weights, one quantize at the input and one dequantize at the output.
  CHECK(count_op(r, "quantized::conv2d_relu") == 2);
  CHECK(count_op(r, "quantized::linear_relu") == 1);
  CHECK(count_op(r, "quantized::linear") == 1);
  CHECK(count_op(r, "aten::quantize_per_tensor") == 1);
  CHECK(count_op(r, "aten::dequantize") == 1);
  auto graph = graph_text(out);
  CHECK_THAT(graph, Catch::Contains("quantized::conv2d_relu"));
  CHECK_THAT(graph, !Catch::Contains("aten::conv2d"));
  // The saved artifact reproduces the float model closely on real data and records its engine.
  CHECK_THAT(mlopt::read_metadata(out), Catch::Contains("\"engine\":\"onednn\""));
  CHECK(r.size_after < r.size_before * 0.3);
  for (const auto& l : r.layers) {
    CHECK(l.quantized);
    CHECK(l.weight_rel_error < 0.02);
    CHECK(l.output_sqnr_db > 25.0);
  }
}

TEST_CASE("quantize: every observer gives usable scales", "[quantize]") {
  for (std::string observer : {"minmax", "histogram", "percentile"}) {
    auto o = digits_options("quantize_digits_cnn.pt", "static", temp_dir("quantize") + "/obs_" + observer + ".pt");
    o.observer = observer;
    o.per_tensor = observer == "minmax";
    auto r = mlopt::quantize(o, {});
    INFO(observer);
    CHECK(r.accuracy_before - r.accuracy_after <= 1.5);
    CHECK(r.output_sqnr_db > 20.0);
  }
}

TEST_CASE("quantize: histogram L2 search clips a long tail, percentile keeps the bulk", "[quantize]") {
  std::vector<double> counts(100, 0.0);
  for (int i = 0; i < 10; ++i) counts[i] = 1e6;  // the bulk in [0, 1)
  counts[99] = 1;                                  // one outlier near 10
  auto l2 = mlopt::quant::l2_optimal_range(counts, 0.0, 10.0);
  CHECK(l2.high < 5.0);
  CHECK(l2.high >= 1.0);
  auto p = mlopt::quant::percentile_range(counts, 0.0, 10.0, 99.99);
  CHECK(p.high == Approx(1.0));
  CHECK(p.low == Approx(0.0));
}

TEST_CASE("quantize: dynamic int8 MLP agrees with fp32 on >= 99% of digits", "[quantize]") {
  auto out = temp_dir("quantize") + "/mlp_dynamic.pt";
  auto o = digits_options("quantize_digits_mlp.pt", "dynamic", out);
  o.calibration.clear();
  auto r = mlopt::quantize(o, {});
  CHECK(r.agreement >= 99.0);
  CHECK(count_op(r, "quantized::linear_dynamic") == 3);
  CHECK_THAT(graph_text(out), Catch::Contains("quantized::linear_dynamic"));
}

TEST_CASE("quantize: dynamic int8 LSTM and GRU run the quantized recurrent kernels", "[quantize]") {
  for (std::string kind : {"lstm", "gru"}) {
    INFO(kind);
    auto out = temp_dir("quantize") + "/" + kind + ".pt";
    mlopt::QuantizeOptions o;
    o.model.path = test_data("quantize_" + kind + ".pt");
    o.mode = "dynamic";
    o.inputs = {"x:batch=8x12x16"};
    o.no_latency = true;
    o.output = out;
    auto r = mlopt::quantize(o, {});
    CHECK(count_op(r, "aten::quantized_" + kind) == 1);
    CHECK(count_op(r, "quantized::linear_dynamic") == 1);
    CHECK(r.output_sqnr_db > 25.0);
    // The archive reloads and still matches the float model.
    auto float_model = mlopt::load_torchscript(o.model.path);
    auto q = mlopt::load_torchscript(out);
    auto x = torch::randn({4, 12, 16});
    auto a = mlopt::run_module(float_model, {x})[0], b = mlopt::run_module(q, {x})[0];
    CHECK((a - b).abs().max().item<double>() < 0.05 * a.abs().max().item<double>() + 1e-3);
    CHECK_THAT(graph_text(out), Catch::Contains("aten::quantized_" + kind));
  }
}

TEST_CASE("quantize: transformer dynamic int8 quantizes the attention projections too", "[quantize]") {
  mlopt::QuantizeOptions o;
  o.model.path = test_data("quantize_transformer.pt");
  o.mode = "dynamic";
  o.inputs = {"tokens:batch=4x10:int64:0..50"};
  o.no_latency = true;
  o.output = temp_dir("quantize") + "/transformer.pt";
  auto r = mlopt::quantize(o, {});
  // Per block: attention in_proj and out_proj, ff1, ff2; and the head.
  CHECK(count_op(r, "quantized::linear_dynamic") == 9);
  CHECK(r.output_sqnr_db > 20.0);
  for (const auto& l : r.layers) {
    INFO(l.name << ": " << l.float_reason);
    CHECK(l.quantized);
  }
}

TEST_CASE("quantize: fp16 and bf16 store weights in half precision", "[quantize]") {
  for (std::string mode : {"fp16", "bf16"}) {
    INFO(mode);
    auto o = digits_options("quantize_digits_cnn.pt", mode, temp_dir("quantize") + "/half_" + mode + ".pt");
    auto r = mlopt::quantize(o, {});
    CHECK(r.size_after < r.size_before * 0.55);
    CHECK(r.accuracy_before - r.accuracy_after <= 0.5);
    CHECK(r.output_sqnr_db > (mode == "fp16" ? 50.0 : 30.0));
  }
}

TEST_CASE("quantize: --skip keeps a layer in float and says why", "[quantize]") {
  auto o = digits_options("quantize_digits_cnn.pt", "static", temp_dir("quantize") + "/skip.pt");
  o.skip = {"fc*"};
  auto r = mlopt::quantize(o, {});
  CHECK(count_op(r, "quantized::linear") + count_op(r, "quantized::linear_relu") == 0);
  CHECK(count_op(r, "quantized::conv2d_relu") == 2);
  for (const auto& l : r.layers) CHECK(l.quantized == (l.kind == "conv2d"));
  CHECK_THAT(r.to_text(), Catch::Contains("[float: --skip fc*]"));
}

TEST_CASE("quantize: accuracy budget sends sensitive layers back to float, or writes a candidate and exits 3",
          "[quantize]") {
  auto dir = temp_dir("quantize");
  // Deliberately bad scales (random calibration over a huge range) so int8 really costs accuracy; the
  // quality floors (which would refuse such an artifact first) are off: this is about the budget.
  auto base = std::vector<std::string>{"quantize", test_data("quantize_digits_cnn.pt"), "--mode", "static",
                                       "--observer", "minmax", "--per-tensor", "--eval", test_data("digits.csv.gz"),
                                       "--reshape", "1x8x8", "--scale", "0.0625", "--max-accuracy-drop", "0",
                                       "--min-sqnr", "0", "--min-top1", "0", "--no-latency", "--json"};
  SECTION("cannot fit: exit 3 and a clearly named candidate") {
    auto args = base;
    args.insert(args.end(), {"--input", "x:batch=8x1x8x8:float32:-1000..1000", "-o", dir + "/bad.pt"});
    auto r = run_mlopt(args);
    CHECK(r.exit_code == 3);
    CHECK_FALSE(mlopt::file_exists(dir + "/bad.pt"));
    CHECK(mlopt::file_exists(dir + "/bad.best-candidate.pt"));
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["candidate_output"] == dir + "/bad.best-candidate.pt");
    CHECK_FALSE(j["accuracy"]["fits"].get<bool>());
    for (const auto& l : j["layers"]) CHECK(l.contains("accuracy_drop_alone"));
  }
  SECTION("fits after fallback: the report lists the float layers") {
    auto args = base;
    args.insert(args.end(), {"--input", "x:batch=8x1x8x8:float32:-30..30", "-o", dir + "/fallback.pt"});
    auto r = run_mlopt(args);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["accuracy"]["drop"].get<double>() <= 0.0);
    int fallback = 0;
    for (const auto& l : j["layers"])
      if (!l["quantized"].get<bool>()) {
        ++fallback;
        CHECK_THAT(l["float_reason"].get<std::string>(), Catch::Contains("accuracy budget"));
      }
    CHECK(fallback >= 1);
    CHECK(fallback < 4);
  }
}

TEST_CASE("quantize: .ptl output picks qnnpack and the lite interpreter reproduces the module", "[quantize]") {
  auto out = temp_dir("quantize") + "/cnn.ptl";
  auto o = digits_options("quantize_digits_cnn.pt", "static", out);
  o.eval.clear();
  o.no_latency = false;
  o.latency_iters = 3;
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  auto r = mlopt::quantize(o, {});
  at::set_num_threads(threads);
  CHECK(r.engine == "qnnpack");
  CHECK(r.format == "torchscript-lite");
  CHECK(mlopt::file_exists(out));
  REQUIRE(r.to_json().contains("latency"));
  // On two threads QNNPACK's pool and OpenMP's spinning workers contend: both sides are timed at one.
  CHECK(r.to_json()["latency"]["threads"] == 1);
  CHECK_THAT(r.to_text(), Catch::Contains(", 1 thread: float"));
  CHECK_THAT(r.to_json()["latency"]["caveat"].get<std::string>(), Catch::StartsWith("timed at 1 thread, both sides"));
#if defined(__x86_64__)
  // Its latency figure is QNNPACK's x86 kernels, and the report says what that does not predict.
  CHECK_THAT(r.to_json()["latency"]["caveat"].get<std::string>(), Catch::Contains("a phone runs QNNPACK's ARM kernels"));
  CHECK_THAT(r.to_text(), Catch::Contains("QNNPACK's x86 kernels"));
#endif
  // A oneDNN model is timed on the threads it was given.
  auto pt_options = digits_options("quantize_digits_cnn.pt", "static", temp_dir("quantize") + "/cnn.pt");
  pt_options.eval.clear();
  pt_options.no_latency = false;
  pt_options.latency_iters = 3;
  at::set_num_threads(2);
  auto pt = mlopt::quantize(pt_options, {});
  at::set_num_threads(threads);
  CHECK(pt.engine == "onednn");
  REQUIRE(pt.to_json().contains("latency"));
  CHECK(pt.to_json()["latency"]["threads"] == 2);
  CHECK_FALSE(pt.to_json()["latency"].contains("caveat"));
}

TEST_CASE("quantize: --min-speedup turns a slow int8 model into exit 3", "[quantize]") {
  auto dir = temp_dir("quantize");
  auto r = run_mlopt({"quantize", test_data("quantize_digits_mlp.pt"), "--mode", "dynamic", "--input",
                      "x:batch=4x64", "--min-speedup", "1000", "--latency-iters", "3", "-o", dir + "/slow.pt"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("below --min-speedup"));
  CHECK(r.out.find("warning:") == std::string::npos);  // said once, on stderr
}

TEST_CASE("quantize: bad input is a one-line error, never a silent no-op", "[quantize]") {
  auto dir = temp_dir("quantize");
  auto cnn = test_data("quantize_digits_cnn.pt");
  auto r = run_mlopt({"quantize", cnn, "--mode", "int4", "-o", dir + "/a.pt"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--mode"));
  r = run_mlopt({"quantize", cnn, "--engine", "fbgemm", "-o", dir + "/a.pt"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--engine"));
  // Calibration samples of the wrong shape (no --reshape): named, with the model's complaint.
  r = run_mlopt({"quantize", cnn, "--mode", "static", "--calibration", test_data("digits.csv.gz"), "-o", dir + "/b.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::StartsWith("mlopt: error: the model cannot run on the calibration data") &&
                        Catch::Contains("64x64"));
  r = run_mlopt({"quantize", cnn, "--mode", "static", "--calibration", test_data("digits.csv.gz"), "--input",
                 "x:batch=1x1x8x8", "-o", dir + "/b.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("expects [1x8x8] per sample"));
  r = run_mlopt({"quantize", test_data("quantize_no_weights.pt"), "--input", "x:4x4", "-o", dir + "/c.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("nothing to quantize"));
  r = run_mlopt({"quantize", test_data("quantize_lstm.pt"), "--mode", "static", "--input", "x:batch=2x12x16",
                 "--skip", "fc", "-o", dir + "/d.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("nothing to quantize in static mode"));
  r = run_mlopt({"quantize", cnn, "--mode", "static", "--input", "x:batch=2x1x8x8", "--skip", "nope", "--no-latency",
                 "-o", dir + "/e.pt"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("calibrating on random inputs") && Catch::Contains("--skip 'nope' matches no"));
  r = run_mlopt({"quantize", cnn, "--mode", "bf16", "-o", dir + "/f.onnx", "--input", "x:1x1x8x8"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("ONNX"));
  CHECK_FALSE(mlopt::file_exists(dir + "/f.onnx"));
}

// A linear layer whose module is not what runs: its weight goes to F.linear in
// a function (as torchvision's Swin hands self.qkv.weight to its attention).
TEST_CASE("quantize: a linear layer called through F.linear on its weight runs int8, as the report says",
          "[quantize]") {
  auto dir = temp_dir("quantize_linear_by_weight");
  std::ofstream(dir + "/by_weight.py")
      << "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
         "def project(x, weight, bias):\n    return F.linear(x, weight, bias)\n\n"
         "class Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.qkv = nn.Linear(256, 256)\n        self.mlp = nn.Linear(256, 16)\n\n"
         "    def forward(self, x):\n        return self.mlp(torch.relu(project(x, self.qkv.weight, self.qkv.bias)))\n";
  for (const char* mode : {"dynamic", "static"}) {
    INFO(mode);
    auto r = run_mlopt({"quantize", dir + "/by_weight.py", "--class", "Block", "--mode", mode, "--input",
                        "x:batch=4x256", "--no-latency", "--min-top1", "0", "--json", "-o", dir + "/q.pt"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    // Both linear layers run an int8 kernel: qkv's call the dynamic one, whatever the mode.
    CHECK(j["quantized_ops"].value("quantized::linear_dynamic", 0) + j["quantized_ops"].value("quantized::linear", 0) == 2);
    CHECK(j["quantized_ops"].value("quantized::linear_dynamic", 0) >= 1);
    CHECK(j["size_ratio"].get<double>() < 0.35);  // qkv's float weight is not kept beside its int8 copy
    auto model = torch::jit::load(dir + "/q.pt");
    for (const auto* node : model.get_method("forward").graph()->nodes())
      CHECK(std::string(node->kind().toQualString()) != "aten::linear");
  }
}
