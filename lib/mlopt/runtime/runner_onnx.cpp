// The .onnx runner: the built-in ONNX evaluator (a reference path, not a runtime).
#include <torch/script.h>

#include <set>

#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/runtime/runner.h"

namespace mlopt {
namespace {

class OnnxRunner : public Runner {
 public:
  explicit OnnxRunner(onnx_eval::Evaluator evaluator) : evaluator_(std::move(evaluator)) {}
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs) override { return evaluator_.run(inputs); }
  std::string engine() const override { return "onnx-reference-evaluator"; }
  std::vector<InputSpec> declared_inputs() const override { return evaluator_.input_specs(); }
  std::vector<std::string> output_names() const override { return evaluator_.output_names(); }
  std::string precision() const override {
    static const std::set<std::string> int8_ops = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
                                                   "MatMulInteger",  "ConvInteger",      "QLinearConv",
                                                   "QLinearMatMul"};
    for (const auto& op : evaluator_.op_types())
      if (int8_ops.count(op)) return "int8";
    for (const auto& spec : evaluator_.input_specs()) {
      if (spec.dtype == "float16") return "fp16";
      if (spec.dtype == "bfloat16") return "bf16";
    }
    return "fp32";
  }
  int64_t parameter_count() const override { return evaluator_.parameter_count(); }
  int64_t parameter_bytes() const override { return evaluator_.parameter_bytes(); }

 private:
  onnx_eval::Evaluator evaluator_;
};

}  // namespace

std::unique_ptr<Runner> make_onnx_runner(const std::string& path) {
  return std::make_unique<OnnxRunner>(onnx_eval::Evaluator::load(path));
}

}  // namespace mlopt
