// quantize --mode qat: quantization-aware training on a model whose wide
// activation ranges make post-training static int8 lose points
// (tests/data/quantize_qat/dsconv_wide.pt, made by tests/fixtures/make_qat_fixtures.py).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <filesystem>

#include "mlopt/core/dataset.h"
#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/quantize/quantize.h"
#include "onnx/ort_oracle.h"
#include "quantize/quantized_ops.h"
#include "support/test_support.h"

using mlopt::test::count_op;
using mlopt::test::run_mlopt;
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

mlopt::Dataset digits() {
  mlopt::DataOptions d;
  d.path = test_data("digits.csv.gz");
  d.reshape = "1x8x8";
  d.scale = 0.0625;
  return mlopt::load_dataset(d);
}

double top1(const at::Tensor& logits, const at::Tensor& labels) {
  return 100.0 * logits.argmax(1).eq(labels).sum().item<double>() / static_cast<double>(labels.size(0));
}

// ONNX Runtime's top-1 on the held-out split.
double ort_top1(const std::string& onnx_path) {
  auto data = digits();
  auto dir = temp_dir("qat_ort");
  mlopt::save_tensors(dir + "/in.npz", {{"x", data.x_val}});
  auto r = run_shell("node " + shell_quote(source_path("tests/oracle/run_ort.js")) + " " + shell_quote(onnx_path) +
                     " " + shell_quote(dir + "/in.npz") + " " + shell_quote(dir + "/out.npz"));
  INFO("run_ort: " << r.err);
  REQUIRE(r.exit_code == 0);
  return top1(mlopt::load_tensors(dir + "/out.npz").at(0).second, data.y_val);
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
