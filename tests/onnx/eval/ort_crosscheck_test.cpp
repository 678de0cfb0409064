// The evaluator against ONNX Runtime (tests/oracle/run_ort_eval.js) on the
// exported fixtures and on quantized graphs built here.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "onnx/eval/graph_builder.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

// The oracle is part of the suite: a missing ONNX Runtime fails, never skips.
using mlopt::test::require_ort;

nlohmann::json tensor_json(const at::Tensor& t) {
  auto d = t.to(at::kDouble).contiguous();
  std::vector<double> data(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  return {{"type", dtype_name(t.scalar_type()) == "bool" ? "bool" : dtype_name(t.scalar_type())},
          {"dims", t.sizes().vec()},
          {"data", data}};
}

// Runs `model_path` in ONNX Runtime on named inputs; returns the outputs as float64 tensors.
std::vector<at::Tensor> run_ort(const std::string& model_path, const std::vector<std::pair<std::string, at::Tensor>>& inputs) {
  std::string dir = test::temp_dir("ort");
  nlohmann::json request = {{"inputs", nlohmann::json::object()}};
  for (const auto& [name, t] : inputs) request["inputs"][name] = tensor_json(t);
  write_file_atomically(dir + "/req.json", request.dump());
  auto r = test::run_shell("node " + test::shell_quote(test::source_path("tests/oracle/run_ort_eval.js")) + " " +
                           test::shell_quote(model_path) + " " + test::shell_quote(dir + "/req.json") + " " +
                           test::shell_quote(dir + "/res.json"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto result = nlohmann::json::parse(read_file(dir + "/res.json"));
  std::vector<at::Tensor> outs;
  for (const auto& o : result["outputs"]) {
    // JSON has no NaN: ONNX Runtime's NaN arrive as null.
    std::vector<double> data;
    for (const auto& v : o["data"]) data.push_back(v.is_null() ? std::nan("") : v.get<double>());
    outs.push_back(torch::tensor(data, at::kDouble).reshape(o["dims"].get<std::vector<int64_t>>()));
  }
  return outs;
}

void crosscheck(const std::string& model_path, const std::vector<std::pair<std::string, at::Tensor>>& inputs,
                double atol) {
  auto ev = onnx_eval::Evaluator::load(model_path);
  std::vector<at::Tensor> values;
  for (const auto& [n, t] : inputs) values.push_back(t);
  auto ours = ev.run(values);
  auto theirs = run_ort(model_path, inputs);
  REQUIRE(ours.size() == theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO(model_path << " output " << i);
    REQUIRE(ours[i].sizes() == theirs[i].sizes());
    auto a = ours[i].to(at::kDouble);
    CHECK(torch::equal(a.isnan(), theirs[i].isnan()));
    double diff = a.numel() ? (a - theirs[i]).abs().nan_to_num(0.0).max().item<double>() : 0.0;
    CHECK(diff <= atol);
  }
}

}  // namespace

TEST_CASE("onnx eval vs ONNX Runtime: exported fixtures", "[onnx-eval]") {
  require_ort();
  for (const char* name : {"mlp", "cnn", "recurrent", "attention", "shape_ops", "upsample"}) {
    std::string model = test::test_data(std::string("verify/") + name + ".onnx");
    auto io = load_tensors(test::test_data(std::string("verify/") + name + "_io.npz"));
    std::vector<std::pair<std::string, at::Tensor>> inputs;
    for (const auto& input : onnx_eval::Evaluator::load(model).input_names())
      for (const auto& [k, v] : io)
        if (k == input) inputs.emplace_back(k, v);
    crosscheck(model, inputs, 1e-4);
  }
}

TEST_CASE("onnx eval vs ONNX Runtime: quantized ops (QDQ, integer and QLinear ops)", "[onnx-eval]") {
  require_ort();
  std::string dir = test::temp_dir("ort-quant");
  torch::manual_seed(3);
  // x -> DynamicQuantizeLinear -> MatMulInteger(w) -> Cast -> Mul(scale) -> Q/DQ round trip
  test::GraphBuilder b(13);
  b.input("x", torch::randn({4, 8}));
  b.init("w", torch::randint(0, 255, {8, 5}, at::kLong).to(at::kByte));
  b.init("wz", torch::scalar_tensor(128, at::kByte));
  b.init("s", torch::scalar_tensor(0.05f));
  b.init("z8", torch::scalar_tensor(3, at::kChar));
  b.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xz"});
  b.node("MatMulInteger", {"xq", "w", "xz", "wz"}, {"acc"});
  auto& cast = b.node("Cast", {"acc"}, {"accf"});
  test::attr(cast, "to", int64_t{1});
  b.node("Mul", {"accf", "xs"}, {"y0"});
  b.node("QuantizeLinear", {"y0", "s", "z8"}, {"yq"});
  b.node("DequantizeLinear", {"yq", "s", "z8"}, {"y"});
  b.output("acc").output("yq").output("y");
  write_file_atomically(dir + "/int.onnx", b.model().SerializeAsString());
  crosscheck(dir + "/int.onnx", {{"x", torch::randn({4, 8})}}, 0.0);

  test::GraphBuilder q(13);
  q.input("x", torch::zeros({1, 2, 6, 6}, at::kByte));
  q.init("xs", torch::scalar_tensor(0.02f)).init("xz", torch::scalar_tensor(120, at::kByte));
  q.init("w", torch::randint(-60, 60, {4, 2, 3, 3}, at::kLong).to(at::kChar));
  q.init("ws", torch::tensor({0.01f, 0.02f, 0.015f, 0.03f})).init("wz", torch::zeros({4}, at::kChar));
  q.init("ys", torch::scalar_tensor(0.1f)).init("yz", torch::scalar_tensor(10, at::kByte));
  q.init("bias", torch::randint(-500, 500, {4}, at::kLong).to(at::kInt));
  q.init("a", torch::randint(0, 255, {6, 3}, at::kLong).to(at::kByte));
  auto& conv = q.node("QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"}, {"y"});
  test::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  test::attr(conv, "strides", std::vector<int64_t>{2, 1});
  q.node("QLinearMatMul", {"y", "ys", "yz", "a", "xs", "xz", "ys", "yz"}, {"m"});
  q.output("y").output("m");
  write_file_atomically(dir + "/qlinear.onnx", q.model().SerializeAsString());
  // Requantization rounds a float product: allow a difference of one step.
  crosscheck(dir + "/qlinear.onnx", {{"x", torch::randint(0, 255, {1, 2, 6, 6}, at::kLong).to(at::kByte)}}, 1.0);
}
