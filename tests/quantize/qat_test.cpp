// quantize --mode qat: quantization-aware training on a model whose wide
// activation ranges make post-training static int8 lose points
// (tests/data/quantize_qat/dsconv_wide.pt, made by tests/fixtures/make_qat_fixtures.py).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "mlopt/core/dataset.h"
#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/quantize/executed_ops.h"
#include "mlopt/quantize/fake_quant.h"
#include "mlopt/quantize/qat.h"
#include "mlopt/quantize/quantize.h"
#include "onnx/ort_oracle.h"
#include "quantize/quantized_ops.h"
#include "quantize/digits_support.h"
#include "support/test_support.h"

using mlopt::test::count_op;
using mlopt::test::digits_dataset;
using mlopt::test::run_mlopt;
using mlopt::test::top1_percent;
using mlopt::test::run_shell;
using mlopt::test::shell_quote;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

const char* kWide = "quantize_qat/dsconv_wide.pt";

// Static PTQ or QAT of the fixture on the digits data, measured on the held-out 20% split.
mlopt::QuantizeOptions wide_options(const std::string& mode, const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = test_data(kWide);
  o.mode = mode;
  if (mode == "qat") o.data.path = test_data("digits.csv.gz");
  else o.calibration = test_data("digits.csv.gz");
  o.eval = test_data("digits.csv.gz");
  o.data.reshape = "1x8x8";
  o.data.scale = 0.0625;
  o.min_sqnr = 0;  // static PTQ of this model is noisy on purpose
  o.no_latency = true;
  o.output = out;
  return o;
}

// ONNX Runtime's top-1 on the held-out split.
double ort_top1(const std::string& onnx_path) {
  auto data = digits_dataset();
  auto dir = temp_dir("qat_ort");
  mlopt::save_tensors(dir + "/in.npz", {{"x", data.x_val}});
  auto r = run_shell("node " + shell_quote(source_path("tests/oracle/run_ort.js")) + " " + shell_quote(onnx_path) +
                     " " + shell_quote(dir + "/in.npz") + " " + shell_quote(dir + "/out.npz"));
  INFO("run_ort: " << r.err);
  REQUIRE(r.exit_code == 0);
  return top1_percent(mlopt::load_tensors(dir + "/out.npz").at(0).second, data.y_val);
}

}  // namespace

TEST_CASE("quantize qat: int8 .pt keeps top-1 within 0.5 point of float where static PTQ loses 2+", "[quantize][qat]") {
  auto dir = temp_dir("qat");
  auto ptq = mlopt::quantize(wide_options("static", dir + "/ptq.pt"), {});
  REQUIRE(ptq.has_accuracy);
  CHECK(ptq.eval_samples == 359);
  CHECK(ptq.accuracy_before > 98.0);
  CHECK(ptq.accuracy_before - ptq.accuracy_after >= 2.0);

  auto qat = mlopt::quantize(wide_options("qat", dir + "/qat.pt"), {});
  CHECK(qat.exit_code == 0);
  CHECK(qat.mode == "qat");
  REQUIRE(qat.has_accuracy);
  CHECK(qat.has_training);
  CHECK(qat.train_epochs == 3);
  CHECK(qat.accuracy_before == ptq.accuracy_before);  // measured against the same float model
  CHECK(qat.accuracy_before - qat.accuracy_after <= 0.5);
  CHECK(qat.accuracy_after - ptq.accuracy_after >= 1.5);
  // The static artifact: every conv+BN+ReLU block one fused int8 kernel, the classifier int8.
  CHECK(count_op(qat, "quantized::conv2d_relu") == 5);
  CHECK(count_op(qat, "quantized::linear") == 1);
  CHECK(count_op(qat, "aten::quantize_per_tensor") == 1);
  CHECK(std::filesystem::exists(dir + "/qat.pt"));
}

TEST_CASE("quantize qat: QDQ .onnx in ONNX Runtime keeps top-1 within 0.5 point of float, PTQ does not",
          "[quantize][qat][onnx]") {
  mlopt::test::require_ort();
  auto dir = temp_dir("qat_onnx");
  auto ptq = mlopt::quantize(wide_options("static", dir + "/ptq.onnx"), {});
  auto qat = mlopt::quantize(wide_options("qat", dir + "/qat.onnx"), {});
  CHECK(qat.exit_code == 0);
  CHECK(qat.format == "onnx");
  double float_top1 = qat.accuracy_before;  // the float model on the same split
  double ptq_top1 = ort_top1(ptq.output), qat_top1 = ort_top1(qat.output);
  INFO("float " << float_top1 << " PTQ " << ptq_top1 << " QAT " << qat_top1);
  CHECK(float_top1 - ptq_top1 >= 2.0);
  CHECK(float_top1 - qat_top1 <= 0.5);
  CHECK(qat_top1 - ptq_top1 >= 1.5);
}

TEST_CASE("quantize qat: bad input is one line, exit 1/2, nothing written", "[quantize][qat]") {
  auto dir = temp_dir("qat_errors");
  auto out = dir + "/out.pt";
  auto base = [&](const std::string& model) {
    return std::vector<std::string>{"quantize", test_data(model), "--mode", "qat", "--reshape", "1x8x8", "-o", out};
  };
  auto check_one_line = [&](const mlopt::test::CommandResult& r, int code, const std::string& needle) {
    INFO(r.err);
    CHECK(r.exit_code == code);
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 1);
    CHECK_FALSE(std::filesystem::exists(out));
  };
  // --mode qat without data.
  check_one_line(run_mlopt(base(kWide)), 2, "--mode qat needs --data");
  // Samples of the wrong shape.
  auto args = base(kWide);
  args[5] = "1x4x16";
  args.insert(args.end(), {"--data", test_data("digits.csv.gz")});
  check_one_line(run_mlopt(args), 1, "expects [1x8x8] per sample");
  // A model without any layer static int8 can quantize.
  args = base("quantize_no_weights.pt");
  args.insert(args.end(), {"--data", test_data("digits.csv.gz"), "--input", "x:batch=2x1x8x8"});
  check_one_line(run_mlopt(args), 1, "has nothing to quantize");
  // --data belongs to qat.
  args = base(kWide);
  args[3] = "static";
  args.insert(args.end(), {"--data", test_data("digits.csv.gz")});
  check_one_line(run_mlopt(args), 2, "--data is the training set of --mode qat");
}

namespace {

// A short QAT run of the fixture through the library (no eval, no latency).
mlopt::QuantizeOptions short_qat(int epochs, const std::string& out = "") {
  auto o = wide_options("qat", out);
  o.eval.clear();
  o.train.epochs = epochs;
  return o;
}

// Every activation observer's (scale, zero point), in module order.
std::vector<at::Tensor> activation_qparams(const torch::jit::Module& prepared) {
  std::vector<at::Tensor> out;
  for (const auto& o : mlopt::quant::fake_quant_observers(prepared))
    if (o.hasattr("observe")) {
      out.push_back(o.attr("scale").toTensor().clone());
      out.push_back(o.attr("zero_point").toTensor().to(at::kFloat));
    }
  return out;
}

bool same_tensors(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!at::equal(a[i], b[i])) return false;
  return true;
}

double max_parameter_change(const torch::jit::Module& a, const torch::jit::Module& b) {
  std::map<std::string, at::Tensor> by_name;
  for (const auto& p : a.named_parameters()) by_name[p.name] = p.value;
  double change = 0;
  for (const auto& p : b.named_parameters())
    change = std::max(change, (p.value - by_name.at(p.name)).abs().max().item<double>());
  return change;
}

// BatchNorm calls one training forward makes (each updates the running statistics).
int64_t batch_norms_run(torch::jit::Module m, const at::Tensor& x) {
  m.train();
  auto ops = mlopt::quant::executed_ops(m, {x});
  m.eval();
  return ops.count("aten::batch_norm") ? ops.at("aten::batch_norm") : 0;
}

}  // namespace

TEST_CASE("quantize qat: --freeze-observers-after E stops the activation ranges after epoch E", "[quantize][qat]") {
  auto train = [](int epochs, int freeze_after) {
    auto o = short_qat(epochs);
    o.freeze_observers_after = freeze_after;
    return activation_qparams(mlopt::quant::train_qat(o, {}).prepared);
  };
  // 0: the calibrated ranges stay, however long it trains.
  auto calibrated = train(1, 0);
  REQUIRE(calibrated.size() >= 10);
  CHECK(same_tensors(train(3, 0), calibrated));
  // 1: the ranges move in epoch 1, then stay: 3 epochs end with epoch 1's ranges.
  auto after_one = train(1, 1);
  CHECK_FALSE(same_tensors(after_one, calibrated));
  CHECK(same_tensors(train(3, 1), after_one));
  // 3: they keep moving through epoch 3.
  CHECK_FALSE(same_tensors(train(3, 3), after_one));
}

TEST_CASE("quantize qat: --freeze-bn-after E trains E epochs with live BatchNorm statistics, then folds them",
          "[quantize][qat]") {
  // A learning rate too small to move a weight: what changes is what BatchNorm's statistics change.
  auto train = [](int freeze_bn_after, const std::string& checkpoint) {
    auto o = short_qat(2);
    o.train.lr = 1e-12;
    o.freeze_bn_after = freeze_bn_after;
    o.train.checkpoint_dir = checkpoint;
    return mlopt::quant::train_qat(o, {});
  };
  auto folded_first = train(0, "");
  auto dir = temp_dir("qat_freeze_bn");
  auto live_first = train(1, dir);
  // Epoch 1 updated the running statistics: the model folded after it differs from the one folded at the start.
  CHECK(max_parameter_change(folded_first.calibrated_float, live_first.calibrated_float) > 1e-3);
  // After the freeze, no BatchNorm statistics are left to move: training ends with the weights folded after epoch 1.
  auto x = live_first.check_inputs.front();
  CHECK(batch_norms_run(torch::jit::load(test_data(kWide)), x) == 5);
  CHECK(batch_norms_run(live_first.prepared, x) == 0);
  CHECK(max_parameter_change(live_first.calibrated_float, live_first.trained_float) < 1e-6);
  CHECK(max_parameter_change(folded_first.calibrated_float, folded_first.trained_float) < 1e-6);
  // The history and the checkpoints say which epoch ran in which phase.
  REQUIRE(live_first.history.size() == 2);
  CHECK(live_first.history[0].phase == "batch-norm");
  CHECK(live_first.history[1].phase == "folded");
  CHECK(live_first.history[1].epoch == 2);
  CHECK(std::filesystem::exists(dir + "/batch-norm/checkpoint.pt"));
  CHECK(std::filesystem::exists(dir + "/folded/checkpoint.pt"));
  REQUIRE(folded_first.history.size() == 2);
  CHECK(folded_first.history[0].phase == "folded");
}

TEST_CASE("quantize qat: --teacher distils from the float model during training and says so", "[quantize][qat]") {
  auto dir = temp_dir("qat_teacher");
  // Through the CLI: the summary names the distillation and its weight.
  auto kd = run_mlopt({"quantize", test_data(kWide), "--mode", "qat", "--data", test_data("digits.csv.gz"), "--reshape",
                       "1x8x8", "--scale", "0.0625", "--epochs", "2", "--no-latency", "--min-sqnr", "0", "--teacher",
                       test_data(kWide), "--alpha", "0.5", "-o", dir + "/kd.pt"});
  INFO(kd.err);
  REQUIRE(kd.exit_code == 0);
  CHECK_THAT(kd.out, Catch::Contains("2 epoch(s) with distillation (alpha 0.5)"));
  // Through the library: the same training without and with the teacher term.
  auto plain_options = short_qat(2, dir + "/plain.pt");
  plain_options.no_latency = true;
  auto kd_options = plain_options;
  kd_options.teacher = test_data(kWide);
  kd_options.train.alpha = 0.5;
  kd_options.output = dir + "/kd2.pt";
  auto plain = mlopt::quantize(plain_options, {}).to_json()["training"];
  auto j = mlopt::quantize(kd_options, {}).to_json()["training"];
  CHECK(j["distillation"] == true);
  CHECK(j["alpha"] == 0.5);
  CHECK(plain["distillation"] == false);
  CHECK(plain["alpha"] == 0.0);
  REQUIRE(j["history"].size() == 2);
  REQUIRE(plain["history"].size() == 2);
  // Another loss (the teacher's soft targets weigh half), so another trajectory.
  CHECK(std::abs(j["history"][0]["loss"].get<double>() - plain["history"][0]["loss"].get<double>()) > 1e-3);
}

TEST_CASE("quantize qat: --resume continues from the checkpoint's epoch, in either phase", "[quantize][qat]") {
  auto dir = temp_dir("qat_resume");
  auto options = [&](int epochs, const std::string& checkpoint, bool resume) {
    auto o = short_qat(epochs, dir + "/" + std::to_string(epochs) + (resume ? "r" : "") + ".pt");
    o.train.schedule = "const";  // the same learning rate per epoch however many epochs the run has
    o.freeze_bn_after = 1;
    o.freeze_observers_after = 3;  // ranges still moving when the first run stops
    o.train.checkpoint_dir = checkpoint;
    o.train.resume = resume;
    return o;
  };
  auto stopped = mlopt::quantize(options(2, dir + "/ckpt", false), {});
  REQUIRE(stopped.exit_code == 0);
  CHECK(stopped.resumed_epochs == 0);
  auto resumed = mlopt::quantize(options(3, dir + "/ckpt", true), {});
  REQUIRE(resumed.exit_code == 0);
  // Epoch 1 (live BatchNorm) and 2 (folded) come from the checkpoints; epoch 3 trains.
  CHECK(resumed.resumed_epochs == 2);
  REQUIRE(resumed.training_history.size() == 3);
  CHECK(resumed.training_history[0].resumed);
  CHECK(resumed.training_history[1].resumed);
  CHECK_FALSE(resumed.training_history[2].resumed);
  CHECK(resumed.training_history[2].phase == "folded");
  for (int e = 0; e < 2; ++e) CHECK(resumed.training_history[e].loss == stopped.training_history[e].loss);
  CHECK_THAT(resumed.to_text(), Catch::Contains("resumed after epoch 2"));
  // The same three epochs as an uninterrupted run.
  auto straight = mlopt::quantize(options(3, dir + "/straight", false), {});
  REQUIRE(straight.training_history.size() == 3);
  INFO("uninterrupted " << straight.training_history[2].loss << " resumed " << resumed.training_history[2].loss);
  CHECK(std::abs(straight.training_history[2].loss - resumed.training_history[2].loss) < 1e-4);
  CHECK(std::abs(straight.fake_quant_accuracy - resumed.fake_quant_accuracy) < 0.5);
  // Nothing to resume from: one line.
  auto r = run_mlopt({"quantize", test_data(kWide), "--mode", "qat", "--data", test_data("digits.csv.gz"), "--reshape",
                      "1x8x8", "--checkpoint", dir + "/empty", "--resume", "-o", dir + "/none.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("--resume: no checkpoint"));
  CHECK_FALSE(std::filesystem::exists(dir + "/none.pt"));
}

TEST_CASE("quantize qat: --help and the command summary name qat", "[quantize][qat]") {
  auto r = run_mlopt({"quantize", "--help"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("qat: quantization-aware training") && Catch::Contains("--freeze-bn-after") &&
                        Catch::Contains("--teacher") && Catch::Contains("--resume"));
  CHECK_THAT(run_mlopt({"--help"}).out, Catch::Contains("qat: quantization-aware training"));
}

TEST_CASE("quantize qat: a channel-pruned model (conv and BatchNorm inlined) folds and freezes BatchNorm too",
          "[quantize][qat]") {
  auto dir = temp_dir("qat_pruned");
  const std::string pruned = dir + "/pruned.pt";
  auto p = run_mlopt({"prune", test_data(kWide), "--method", "channel", "--amount", "0.5", "--input",
                      "x:batch=8x1x8x8", "-o", pruned});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  auto o = short_qat(2, dir + "/qat.pt");
  o.model.path = pruned;
  o.freeze_bn_after = 1;
  auto qat = mlopt::quant::train_qat(o, {});
  auto x = qat.check_inputs.front();
  CHECK(batch_norms_run(torch::jit::load(pruned), x) == 5);
  CHECK(batch_norms_run(qat.prepared, x) == 0);  // folded after epoch 1: no statistics move in epoch 2
  o.min_top1 = 0;  // half the channels gone and two epochs: the top-1 floor vs the pruned float is not the point
  auto r = mlopt::quantize(o, {});
  INFO(r.quality_failure);
  REQUIRE(r.exit_code == 0);
  // Every BatchNorm folded into its int8 convolution (LibTorch fuses the ReLU of module calls only).
  CHECK(count_op(r, "quantized::conv2d") + count_op(r, "quantized::conv2d_relu") == 5);
  CHECK(count_op(r, "quantized::batch_norm") == 0);
}
