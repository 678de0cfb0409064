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
};

using Initializers = std::map<std::string, const onnx::TensorProto*>;

struct OnnxPattern {
  std::string op_type;   // Conv | Gemm | MatMul | ConvTranspose
  std::string kind;      // layer kind in the report: conv | gemm | matmul | conv_transpose
  bool static_int8 = false;   // QDQ around weight and activations
  bool dynamic_int8 = false;  // DynamicQuantizeLinear + MatMulInteger
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

}  // namespace mlopt::quant
