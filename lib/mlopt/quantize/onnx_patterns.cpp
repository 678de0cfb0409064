// The ONNX pattern table. Adding an op: one entry saying where its weight and
// bias are, which attribute values keep it a plain (quantizable) product, and
// the rewrites that make its int8 forms (onnx_rewrite.h).
#include "mlopt/quantize/onnx_patterns.h"

#include <fmt/format.h>

#include <set>

#include "mlopt/onnx/proto/node.h"
#include "mlopt/quantize/onnx_rewrite.h"

namespace mlopt::quant {

namespace {

using onnx_proto::attribute_float;
using onnx_proto::attribute_int;

bool is_float_init(const onnx::NodeProto& n, int input, const Initializers& inits, int rank = -1) {
  if (n.input_size() <= input || n.input(input).empty()) return false;
  auto it = inits.find(n.input(input));
  if (it == inits.end() || it->second->data_type() != onnx::TensorProto::FLOAT) return false;
  return rank < 0 || it->second->dims_size() == rank;
}

// Conv: weight [M, C/group, k...], bias [M]; output channels on axis 0.
OnnxWeight inspect_conv(const onnx::NodeProto& n, const Initializers& inits, std::string& why_not) {
  OnnxWeight w;
  if (!is_float_init(n, 1, inits)) why_not = "its weight is not a float initializer";
  if (n.input_size() > 2 && !n.input(2).empty()) {
    if (is_float_init(n, 2, inits, 1)) w.bias_input = 2;
    else why_not = "its bias is not a 1-D float initializer";
  }
  return w;
}

// Gemm: Y = alpha * A * B' + beta * C; only the plain form (alpha = beta = 1,
// A not transposed) is a quantizable product; channels are B's N axis.
OnnxWeight inspect_gemm(const onnx::NodeProto& n, const Initializers& inits, std::string& why_not) {
  OnnxWeight w;
  w.transposed = attribute_int(n, "transB", 0) != 0;
  w.channel_axis = w.transposed ? 0 : 1;
  if (!is_float_init(n, 1, inits, 2)) why_not = "its B input is not a 2-D float initializer";
  else if (attribute_int(n, "transA", 0) != 0) why_not = "transA=1";
  else if (attribute_float(n, "alpha", 1.0f) != 1.0f || attribute_float(n, "beta", 1.0f) != 1.0f) why_not = "alpha/beta != 1";
  if (n.input_size() > 2 && !n.input(2).empty()) {
    if (is_float_init(n, 2, inits, 1)) w.bias_input = 2;
    else if (why_not.empty()) why_not = "its C input is not a 1-D float initializer";
  }
  return w;
}

// MatMul with a constant right-hand side [K, N] (Linear without bias, attention projections).
OnnxWeight inspect_matmul(const onnx::NodeProto& n, const Initializers& inits, std::string& why_not) {
  OnnxWeight w;
  w.channel_axis = 1;
  if (!is_float_init(n, 1, inits, 2)) {
    bool activations = n.input_size() > 1 && !inits.count(n.input(0)) && !inits.count(n.input(1));
    // Attention scores (Q K^T) and context (softmax V): both sides computed, no weight to quantize.
    why_not = activations ? "both operands are activations (e.g. attention scores), no weight to quantize"
                          : "its right-hand side is not a 2-D float initializer";
  }
  return w;
}

// Gather of rows (axis 0) of a 2-D float initializer by computed ids: an embedding lookup.
OnnxWeight inspect_gather(const onnx::NodeProto& n, const Initializers& inits, std::string& why_not) {
  OnnxWeight w;
  w.weight_input = 0;
  // Only a lookup of computed ids in a float table is an embedding.
  w.not_a_layer = !is_float_init(n, 0, inits, 2) || n.input_size() < 2 || inits.count(n.input(1)) > 0;
  if (!w.not_a_layer && attribute_int(n, "axis", 0) != 0) why_not = "axis != 0 (not a row lookup)";
  return w;
}

}  // namespace

const std::vector<OnnxPattern>& onnx_patterns() {
  static const std::vector<OnnxPattern> table = {
      // op type, kind, static rewrite, dynamic rewrite, inspect
      {"Conv", "conv", qdq_weight_and_bias, nullptr, inspect_conv},
      {"Gemm", "gemm", qdq_weight_and_bias, matmul_integer, inspect_gemm},
      {"MatMul", "matmul", qdq_weight_and_bias, matmul_integer, inspect_matmul},
      {"Gather", "embedding", nullptr, gather_rows_int8, inspect_gather},
      // Listed so the report names it; kept float (no QDQ form here).
      {"ConvTranspose", "conv_transpose", nullptr, nullptr, inspect_conv},
  };
  return table;
}

std::string float_reason(const OnnxPattern& p, const std::string& mode) {
  bool has_static = p.static_rewrite != nullptr, has_dynamic = p.dynamic_rewrite != nullptr;
  if (mode == "static" ? has_static : mode == "dynamic" ? has_dynamic : true) return "";
  if (!has_static && !has_dynamic) return fmt::format("no int8 form for {} in ONNX", p.op_type);
  return fmt::format("no {} int8 form for {} in ONNX (use --mode {})", mode, p.op_type,
                     mode == "dynamic" ? "static" : "dynamic");
}

const FloatOnlyOp* onnx_float_only_op(const std::string& op_type) {
  static const std::vector<FloatOnlyOp> table = {
      {"LSTM", "standard ONNX has no int8 recurrent op (quantize to .pt for quantized LSTM)"},
      {"GRU", "standard ONNX has no int8 recurrent op (quantize to .pt for quantized GRU)"},
      {"RNN", "standard ONNX has no int8 recurrent op (quantize to .pt for quantized LSTM)"},
  };
  for (const auto& op : table)
    if (op.op_type == op_type) return &op;
  return nullptr;
}

bool onnx_quantized_op(const std::string& op_type) {
  static const std::set<std::string> ops = {"QuantizeLinear", "DequantizeLinear", "MatMulInteger",
                                            "DynamicQuantizeLinear"};
  return ops.count(op_type) > 0;
}

std::string node_name(const onnx::NodeProto& node, int index) {
  return node.name().empty() ? fmt::format("{}_{}", node.op_type(), index) : node.name();
}

std::vector<OnnxLayer> find_onnx_layers(const onnx::ModelProto& model) {
  const auto& g = model.graph();
  auto inits = initializers_of(g);
  std::vector<OnnxLayer> layers;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    for (const auto& p : onnx_patterns()) {
      if (p.op_type != n.op_type()) continue;
      OnnxLayer l;
      l.name = node_name(n, i);
      l.node_index = i;
      l.pattern = &p;
      l.weight = p.inspect(n, inits, l.why_not);
      if (!l.weight.not_a_layer) layers.push_back(l);
    }
  }
  return layers;
}

}  // namespace mlopt::quant
