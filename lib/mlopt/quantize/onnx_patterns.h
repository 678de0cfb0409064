#pragma once
// The ONNX pattern table: which ONNX nodes quantize how (the counterpart of
// patterns.h for TorchScript). One entry per op type; an entry says whether
// the node at hand qualifies (its weight must be an initializer, its
// attributes plain) and where its weight, bias and output channels are.
#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mlopt/onnx/proto/graph_edit.h"

namespace mlopt::quant {

// Where a quantizable node keeps its parameters.
struct OnnxWeight {
  int weight_input = 1;   // the initializer input holding the weight
  int64_t channel_axis = 0;  // output channels of the weight (per-channel scales)
  int bias_input = -1;    // a 1-D bias initializer added to the output (-1: none)
  bool transposed = false;  // Gemm transB=1: weight is [N, K]
  bool not_a_layer = false;  // the op serves other ends here (a Gather of shape values): not listed
};

using Initializers = std::map<std::string, const onnx::TensorProto*>;

struct OnnxLayer;
struct QdqContext;
struct DynamicContext;
// A pattern's rewrites (onnx_rewrite.h): each emits one layer's int8 form.
using QdqRewrite = void (*)(QdqContext& context, const OnnxLayer& layer);
using DynamicRewrite = void (*)(DynamicContext& context, const OnnxLayer& layer);

struct OnnxPattern {
  std::string op_type;   // Conv | Gemm | MatMul | ConvTranspose
  std::string kind;      // layer kind in the report: conv | gemm | matmul | conv_transpose
  QdqRewrite static_rewrite = nullptr;        // static int8 (QDQ); nullptr: no static form
  DynamicRewrite dynamic_rewrite = nullptr;   // dynamic int8; nullptr: no dynamic form
  // The node's parameters, or an empty `why_not` explaining why it stays float.
  std::function<OnnxWeight(const onnx::NodeProto&, const Initializers&, std::string& why_not)> inspect;
};

const std::vector<OnnxPattern>& onnx_patterns();

struct OnnxLayer {
  std::string name;  // node name (made up as "<op>_<index>" when the file has none)
  int node_index = 0;
  const OnnxPattern* pattern = nullptr;
  OnnxWeight weight;
  std::string why_not;  // non-empty: the pattern matched the op type but this node cannot be quantized
};

// Every main-graph node whose op type has a pattern, in graph order.
std::vector<OnnxLayer> find_onnx_layers(const onnx::ModelProto& model);
using onnx_proto::initializers_of;
std::string node_name(const onnx::NodeProto& node, int index);
// Why `mode` ("static" | "dynamic" | "fp16") keeps the pattern's nodes float ("" when it has a form).
std::string float_reason(const OnnxPattern& pattern, const std::string& mode);

// Ops int8 leaves float that the report warns about (recurrent layers), with why.
struct FloatOnlyOp {
  std::string op_type, why;
};
const FloatOnlyOp* onnx_float_only_op(const std::string& op_type);
// Ops that say what a quantized file computes in (counted as its "kernels").
bool onnx_quantized_op(const std::string& op_type);

}  // namespace mlopt::quant
