// quantize -o OUT.onnx: QDQ static int8, dynamic int8 (MatMulInteger) and fp16
// files, run by ONNX Runtime (tests/oracle/run_ort.js) against the float model.
#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <map>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dataset.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/export.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/quantize/quantize.h"
#include "onnx/ort_oracle.h"
#include "quantize/digits_support.h"
#include "support/test_support.h"

using mlopt::test::digits_dataset;
using mlopt::test::run_mlopt;
using mlopt::test::top1_percent;
using mlopt::test::run_shell;
using mlopt::test::shell_quote;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

mlopt::QuantizeOptions digits_onnx(const std::string& model, const std::string& mode, const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = test_data(model);
  o.mode = mode;
  o.inputs = {"x:batch=1x1x8x8"};
  o.calibration = test_data("digits.csv.gz");
  o.eval = test_data("digits.csv.gz");
  o.data.reshape = "1x8x8";
  o.data.scale = 0.0625;
  o.output = out;
  return o;
}

// The digits 20% split (the seeded split load_dataset makes).
// ONNX Runtime's first output for `x` fed to input `name` of `onnx_path`.
at::Tensor run_ort(const std::string& onnx_path, const at::Tensor& x, const std::string& name = "x") {
  return mlopt::test::run_in_ort(onnx_path, {{name, x}}).at(0).second;
}

std::map<std::string, int64_t> ops_of(const std::string& path) {
  return mlopt::test::op_counts(mlopt::onnx_eval::Evaluator::load(path).model());
}

int64_t initializers_of_type(const std::string& path, int type) {
  int64_t n = 0;
  auto evaluator = mlopt::onnx_eval::Evaluator::load(path);
  for (const auto& t : evaluator.model().graph().initializer()) n += t.data_type() == type;
  return n;
}

// The float ONNX file of a digits model, by `mlopt export-onnx`.
std::string export_float(const std::string& model, const std::string& dir) {
  auto path = dir + "/" + model + ".float.onnx";
  auto r = run_mlopt({"export-onnx", test_data(model), "--input", "x:batch=1x1x8x8", "-o", path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return path;
}

}  // namespace

TEST_CASE("quantize onnx: static int8 QDQ digits CNN keeps top-1 within 1 point in ONNX Runtime", "[quantize][onnx]") {
  auto dir = temp_dir("quantize_onnx");
  auto r = mlopt::quantize(digits_onnx("quantize_digits_cnn.pt", "static", dir + "/cnn.int8.onnx"), {});
  CHECK(r.exit_code == 0);
  CHECK(r.format == "onnx");
  REQUIRE(r.has_accuracy);
  CHECK(r.eval_samples == 359);
  CHECK(r.accuracy_before > 97.0);
  CHECK(r.accuracy_before - r.accuracy_after <= 1.0);
  CHECK(r.output_sqnr_db > 20.0);
  CHECK(r.size_ratio <= 0.30);  // tiny model: a few KB of scales and nodes on top of 0.25x (size test below)
  auto ops = ops_of(r.output);
  // Activations: the input and each conv/gemm output; weights and biases: one DequantizeLinear each.
  CHECK(ops["QuantizeLinear"] >= 3);
  CHECK(ops["DequantizeLinear"] >= 9);
  CHECK(ops["Conv"] == 2);
  CHECK(initializers_of_type(r.output, onnx::TensorProto::INT8) >= 3);
  CHECK(initializers_of_type(r.output, onnx::TensorProto::INT32) >= 3);
  mlopt::test::require_ort();
  auto data = digits_dataset();
  auto float_top1 = top1_percent(run_ort(export_float("quantize_digits_cnn.pt", dir), data.x_val), data.y_val);
  auto int8_logits = run_ort(r.output, data.x_val);
  auto int8_top1 = top1_percent(int8_logits, data.y_val);
  INFO("ONNX Runtime top-1: float " << float_top1 << "%, int8 " << int8_top1 << "%");
  CHECK(float_top1 > 97.0);
  CHECK(float_top1 - int8_top1 <= 1.0);
  CHECK(std::abs(int8_top1 - r.accuracy_after) <= 0.6);  // the built-in evaluator agrees with ORT
}

TEST_CASE("quantize onnx: dynamic int8 MLP uses MatMulInteger and agrees with fp32 in ONNX Runtime", "[quantize][onnx]") {
  auto dir = temp_dir("quantize_onnx");
  auto r = mlopt::quantize(digits_onnx("quantize_digits_mlp.pt", "dynamic", dir + "/mlp.int8.onnx"), {});
  CHECK(r.exit_code == 0);
  CHECK(r.size_ratio <= 0.30);  // 17k weights; float biases and nodes are the rest
  CHECK(r.agreement >= 99.0);
  auto ops = ops_of(r.output);
  CHECK(ops["DynamicQuantizeLinear"] == 3);
  CHECK(ops["MatMulInteger"] == 3);
  CHECK(ops["Gemm"] + ops["MatMul"] == 0);
  CHECK(initializers_of_type(r.output, onnx::TensorProto::INT8) >= 3);
  mlopt::test::require_ort();
  auto data = digits_dataset();
  auto float_logits = run_ort(export_float("quantize_digits_mlp.pt", dir), data.x_val);
  auto int8_logits = run_ort(r.output, data.x_val);
  double agree = 100.0 * int8_logits.argmax(1).eq(float_logits.argmax(1)).sum().item<double>() / data.x_val.size(0);
  CHECK(agree >= 99.0);
  double rel = ((int8_logits - float_logits).abs().max() / float_logits.abs().max()).item<double>();
  CHECK(rel < 0.1);
}

TEST_CASE("quantize onnx: fp16 stores float16 weights and keeps float32 inputs and outputs", "[quantize][onnx]") {
  auto dir = temp_dir("quantize_onnx");
  auto o = digits_onnx("quantize_digits_cnn.pt", "fp16", dir + "/cnn.fp16.onnx");
  auto r = mlopt::quantize(o, {});
  CHECK(r.exit_code == 0);
  CHECK(r.size_ratio <= 0.52);
  CHECK(r.accuracy_before - r.accuracy_after <= 0.5);
  auto model = mlopt::onnx_eval::Evaluator::load(r.output).model();
  CHECK(initializers_of_type(r.output, onnx::TensorProto::FLOAT) == 0);
  CHECK(initializers_of_type(r.output, onnx::TensorProto::FLOAT16) >= 6);
  CHECK(model.graph().input(0).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT);
  CHECK(model.graph().output(0).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT);
  mlopt::test::require_ort();
  auto data = digits_dataset();
  auto float_logits = run_ort(export_float("quantize_digits_cnn.pt", dir), data.x_val);
  auto half_logits = run_ort(r.output, data.x_val);
  CHECK(half_logits.scalar_type() == at::kFloat);
  double rel = ((half_logits - float_logits).abs().max() / float_logits.abs().max()).item<double>();
  CHECK(rel < 1e-2);
  CHECK(half_logits.argmax(1).eq(float_logits.argmax(1)).sum().item<int64_t>() >= data.x_val.size(0) - 1);
}

TEST_CASE("quantize onnx: an exported float .onnx quantizes to .onnx (static and dynamic)", "[quantize][onnx]") {
  auto dir = temp_dir("quantize_onnx");
  auto float_path = export_float("quantize_digits_cnn.pt", dir);
  auto r = run_mlopt({"quantize", float_path, "--mode", "static", "--calibration", test_data("digits.csv.gz"),
                      "--reshape", "1x8x8", "--scale", "0.0625", "--eval", test_data("digits.csv.gz"), "--json", "-o",
                      dir + "/from_onnx.int8.onnx"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["accuracy"]["drop"].get<double>() <= 1.0);
  CHECK(j["size_ratio"].get<double>() <= 0.30);
  CHECK(ops_of(dir + "/from_onnx.int8.onnx")["QuantizeLinear"] >= 3);
  r = run_mlopt({"quantize", float_path, "--mode", "dynamic", "-o", dir + "/from_onnx.dyn.onnx"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto ops = ops_of(dir + "/from_onnx.dyn.onnx");
  CHECK(ops["MatMulInteger"] == 2);  // the classifier's two Gemms; convolutions have no dynamic form
  CHECK(ops["Conv"] == 2);
  mlopt::test::require_ort();
  auto data = digits_dataset();
  auto float_logits = run_ort(float_path, data.x_val);
  for (const auto* file : {"/from_onnx.int8.onnx", "/from_onnx.dyn.onnx"}) {
    auto q = run_ort(dir + file, data.x_val);
    INFO(file);
    CHECK(q.argmax(1).eq(float_logits.argmax(1)).sum().item<double>() / data.x_val.size(0) >= 0.98);
  }
}

TEST_CASE("quantize onnx: nothing to quantize and unsupported requests are clear errors", "[quantize][onnx]") {
  auto dir = temp_dir("quantize_onnx");
  auto plain = dir + "/no_weights.onnx";
  auto e = run_mlopt({"export-onnx", test_data("quantize_no_weights.pt"), "--input", "x:4x4", "-o", plain});
  REQUIRE(e.exit_code == 0);
  auto r = run_mlopt({"quantize", plain, "--mode", "static", "-o", dir + "/a.onnx"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("nothing to quantize") && Catch::Contains("Conv, Gemm or MatMul"));
  CHECK_FALSE(mlopt::file_exists(dir + "/a.onnx"));
  r = run_mlopt({"quantize", plain, "--mode", "fp16", "-o", dir + "/b.onnx"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("no float32 weights"));
  r = run_mlopt({"quantize", test_data("quantize_digits_cnn.pt"), "--mode", "bf16", "--input", "x:1x1x8x8", "-o",
                 dir + "/c.onnx"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("fp16"));
  r = run_mlopt({"quantize", plain, "--mode", "dynamic", "-o", dir + "/d.pt"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("ONNX model"));
  r = run_mlopt({"quantize", test_data("quantize_digits_cnn.pt"), "--mode", "static", "-o", dir + "/e.onnx"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("--input"));
}

TEST_CASE("quantize onnx: a 300k-weight CNN is at most 0.27x in int8 and 0.52x in fp16, and runs in ONNX Runtime",
          "[quantize][onnx]") {
  // The digits models are tiny (the scales, int32 biases and QDQ nodes are a
  // fixed few KB on top of 26% of weights); size targets are checked here.
  auto dir = temp_dir("quantize_onnx");
  torch::manual_seed(0);
  auto m = mlopt::test::make_module(R"(
def forward(self, x):
    y = torch.relu(torch.conv2d(x, self.w1, self.b1, 1, 1))
    y = torch.relu(torch.conv2d(y, self.w2, self.b2, 1, 1))
    return torch.matmul(y.mean([2, 3]), self.w3) + self.b3
)",
                                    {{"w1", torch::randn({128, 3, 3, 3}) * 0.2}, {"b1", torch::randn({128}) * 0.1},
                                     {"w2", torch::randn({256, 128, 3, 3}) * 0.03}, {"b2", torch::randn({256}) * 0.1},
                                     {"w3", torch::randn({256, 10}) * 0.1}, {"b3", torch::randn({10})}});
  auto specs = mlopt::parse_input_specs({"x:batch=2x3x16x16"});
  auto float_model = mlopt::export_module(m, specs);
  std::string float_path = dir + "/cnn.onnx", bytes;
  REQUIRE(float_model.SerializeToString(&bytes));
  mlopt::write_file_atomically(float_path, bytes);
  auto x = torch::rand({4, 3, 16, 16});
  at::Tensor want;
  mlopt::test::require_ort();
  want = run_ort(float_path, x);
  for (std::string mode : {"static", "dynamic", "fp16"}) {
    mlopt::QuantizeOptions o;
    o.model.path = float_path;
    o.mode = mode;
    o.output = dir + "/cnn." + mode + ".onnx";
    auto r = mlopt::quantize(o, {});
    INFO(mode << ": size " << r.size_before << " -> " << r.size_after);
    CHECK(r.exit_code == 0);
    if (mode == "static") {
      CHECK(r.size_ratio <= 0.27);
      CHECK(r.output_sqnr_db > 25.0);
      CHECK_THAT(r.warnings.at(0), Catch::Contains("random inputs"));
    } else if (mode == "dynamic") {
      CHECK(r.size_ratio > 0.9);  // the convolutions have no dynamic form and stay float
      CHECK(ops_of(o.output)["MatMulInteger"] == 1);
    } else {
      CHECK(r.size_ratio <= 0.52);
    }
    if (!want.defined()) continue;
    auto got = run_ort(o.output, x);
    double rel = ((got - want).abs().max() / want.abs().max()).item<double>();
    CHECK(rel < (mode == "fp16" ? 0.01 : 0.08));
  }
}

TEST_CASE("quantize onnx: a graph with a fixed batch size calibrates and evaluates at that size", "[quantize][onnx]") {
  auto dir = temp_dir("quantize_onnx");
  auto fixed = dir + "/mlp_b1.onnx";
  auto e = run_mlopt({"export-onnx", test_data("quantize_digits_mlp.pt"), "--input", "x:1x1x8x8", "-o", fixed});
  REQUIRE(e.exit_code == 0);
  auto r = run_mlopt({"quantize", fixed, "--mode", "static", "--calibration", test_data("digits.csv.gz"),
                      "--calibration-samples", "32", "--observer", "minmax", "--reshape", "1x8x8", "--scale", "0.0625",
                      "--eval", test_data("digits.csv.gz"), "--json", "-o", dir + "/mlp_b1.int8.onnx"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["accuracy"]["samples"] == 359);
  CHECK(j["accuracy"]["drop"].get<double>() <= 1.0);
}
