#include "mlopt/profile/flops.h"

#include <nlohmann/json.hpp>

#include <set>

#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "mlopt/profile/op_recorder.h"

namespace mlopt {
namespace {

int64_t product(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

const std::set<std::string>& conv_ops() {
  static const std::set<std::string> ops = {"aten::conv1d",           "aten::conv2d",           "aten::conv3d",
                                            "aten::convolution",      "aten::_convolution",     "aten::conv_transpose1d",
                                            "aten::conv_transpose2d", "aten::conv_transpose3d"};
  return ops;
}

// int8 kernels: the weight (input 1) is packed; the recorder unpacks its shape.
const std::set<std::string>& quantized_conv_ops() {
  static const std::set<std::string> ops = {"quantized::conv1d", "quantized::conv2d", "quantized::conv3d",
                                            "quantized::conv1d_relu", "quantized::conv2d_relu",
                                            "quantized::conv3d_relu"};
  return ops;
}

const std::set<std::string>& linear_ops() {
  static const std::set<std::string> ops = {"aten::linear", "quantized::linear", "quantized::linear_relu",
                                            "quantized::linear_dynamic", "quantized::linear_relu_dynamic",
                                            "quantized::linear_dynamic_fp16"};
  return ops;
}

const std::set<std::string>& matmul_ops() {
  static const std::set<std::string> ops = {"aten::mm", "aten::bmm", "aten::matmul", "aten::baddbmm"};
  return ops;
}

}  // namespace

bool counts_flops(const std::string& op) {
  return conv_ops().count(op) || quantized_conv_ops().count(op) || matmul_ops().count(op) || linear_ops().count(op) ||
         op == "aten::addmm";
}

bool is_attention_op(const std::string& op) {
  return op.find("multi_head_attention") != std::string::npos || op.find("scaled_dot_product_attention") != std::string::npos;
}

int64_t op_flops(const std::string& op, const std::vector<std::vector<int64_t>>& in, const std::vector<int64_t>& out,
                 bool transposed, std::string* category) {
  auto shape = [&](size_t i) -> const std::vector<int64_t>& {
    static const std::vector<int64_t> none;
    return i < in.size() ? in[i] : none;
  };
  int64_t out_numel = out.empty() ? 0 : product(out);
  if (conv_ops().count(op) || quantized_conv_ops().count(op)) {
    const auto& w = shape(1);
    if (w.size() < 3) return 0;
    if (category) *category = "conv";
    bool t = transposed || op.find("transpose") != std::string::npos;
    // Each output (or, transposed, each input) element takes Cin/groups * kernel MACs.
    return 2 * (t ? product(shape(0)) : out_numel) * w[1] * product(w, 2);
  }
  if (linear_ops().count(op)) {
    const auto& w = shape(1);
    if (w.size() != 2) return 0;
    if (category) *category = "linear";
    return 2 * out_numel * w[1];
  }
  if (op == "aten::addmm") {
    const auto& m1 = shape(1);
    if (m1.size() != 2) return 0;
    if (category) *category = "linear";
    return 2 * out_numel * m1[1];
  }
  if (matmul_ops().count(op)) {
    const auto& a = op == "aten::baddbmm" ? shape(1) : shape(0);
    if (a.empty()) return 0;
    if (category) *category = "matmul";
    return 2 * out_numel * a.back();
  }
  return 0;
}

FlopCount count_flops(const OpRecording& recording) {
  FlopCount c;
  for (const auto& e : recording.events) {
    if (!e.flops) continue;
    c.total += e.flops;
    if (e.flop_category == "conv") c.conv += e.flops;
    else if (e.flop_category == "linear") c.linear += e.flops;
    else if (e.flop_category == "attention") c.attention += e.flops;
    else c.matmul += e.flops;
  }
  int64_t runs = std::max(recording.runs, 1);
  c.total /= runs, c.conv /= runs, c.linear /= runs, c.matmul /= runs, c.attention /= runs;
  return c;
}

FlopCount count_flops(const std::function<void()>& run_once) { return count_flops(record_ops(run_once, 1)); }

FlopCount count_module_flops(const torch::jit::Module& module, const std::vector<at::Tensor>& inputs) {
  auto fresh = module.clone(/*inplace=*/true);  // new methods (fresh executors), the same tensors
  return count_flops([&] { run_module(fresh, inputs); });
}

nlohmann::json FlopCount::to_json() const {
  return {{"total", total}, {"conv", conv}, {"linear", linear}, {"matmul", matmul}, {"attention", attention}};
}

}  // namespace mlopt
