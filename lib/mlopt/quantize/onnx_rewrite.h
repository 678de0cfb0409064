#pragma once
// Graph rewrites that quantize a float ONNX ModelProto:
// - static int8 in QDQ form: QuantizeLinear/DequantizeLinear pairs on the
//   calibrated activations (uint8, asymmetric) and DequantizeLinear on int8
//   weights (symmetric, per channel) and int32 biases, the form ONNX Runtime
//   fuses into QLinearConv / QLinearMatMul / QGemm;
// - dynamic int8: DynamicQuantizeLinear + MatMulInteger + scale, bias add
//   (ONNX Runtime fuses it into DynamicQuantizeMatMul);
// - fp16: weights and compute in float16, Casts at the graph's float inputs
//   and outputs so callers still feed and read float32.
#include <onnx/onnx_pb.h>

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mlopt/onnx/proto/graph_edit.h"
#include "mlopt/quantize/observers.h"
#include "mlopt/quantize/onnx_patterns.h"
#include "mlopt/quantize/weight_granularity.h"

namespace mlopt::quant {

// uint8 asymmetric parameters of a calibrated activation.
struct ActivationQ {
  float scale = 1;
  uint8_t zero_point = 0;
};

// What a pattern's static rewrite works with: it adds the layer's int8
// parameters to `out`, the DequantizeLinear nodes to `before` (placed right
// before the layer's node) and rewires `node` (a copy of the layer's node) to
// read them.
struct QdqContext {
  const onnx::GraphProto& graph;
  onnx::GraphProto& out;
  onnx_proto::FreshNames& names;
  const Initializers& inits;
  bool per_channel;
  const std::map<std::string, ActivationQ>& activations;  // the quantized activations' parameters
  std::vector<onnx::NodeProto> before;
  onnx::NodeProto node;
};
// What a pattern's dynamic rewrite works with: it emits the nodes replacing
// the layer's node into `out` (in graph order) and its parameters.
struct DynamicContext {
  const onnx::GraphProto& graph;
  onnx::GraphProto& out;
  onnx_proto::FreshNames& names;
  const Initializers& inits;
  Granularity granularity;
  std::map<std::string, std::array<std::string, 3>> quantized_inputs;  // one DynamicQuantizeLinear per input value
};

// The rewrites of the pattern table (onnx_patterns.cpp):
// weight int8 symmetric (per channel along the pattern's channel axis) and
// bias int32 at input scale x weight scale, each behind a DequantizeLinear;
void qdq_weight_and_bias(QdqContext& context, const OnnxLayer& layer);
// DynamicQuantizeLinear of the input (shared), MatMulInteger with the int8
// weight as [K, N], rescale, bias add.
void matmul_integer(DynamicContext& context, const OnnxLayer& layer);
// Embedding lookups (Gather of rows of a 2-D float table): the table in int8
// with a float scale per row (symmetric), the rows gathered in int8 with their
// scales and rescaled; weight-only, the lookup still returns float.
void gather_rows_int8(DynamicContext& context, const OnnxLayer& layer);

// The layers `mode` ("static" | "dynamic") quantizes: pattern supports it,
// the node qualifies and it is not in `float_layers`.
std::vector<OnnxLayer> layers_to_quantize(const std::vector<OnnxLayer>& layers, const std::string& mode,
                                          const std::set<std::string>& float_layers);

// The activations static QDQ quantizes for `layers` (inputs, and outputs after
// a following Relu), i.e. the values calibration must observe.
std::vector<std::string> qdq_activations(const onnx::ModelProto& model, const std::vector<OnnxLayer>& layers);

struct QdqPlan {
  bool per_channel = true;
  std::map<std::string, Range> ranges;  // every value of qdq_activations
};
onnx::ModelProto quantize_qdq(const onnx::ModelProto& model, const std::vector<OnnxLayer>& layers, const QdqPlan& plan);

onnx::ModelProto quantize_dynamic_onnx(const onnx::ModelProto& model, const std::vector<OnnxLayer>& layers,
                                       Granularity granularity);

onnx::ModelProto convert_fp16(const onnx::ModelProto& model);
// The float model with its float weights rounded through float16: what the
// built-in evaluator (float32 compute) runs to estimate an fp16 file's accuracy.
onnx::ModelProto round_weights_fp16(const onnx::ModelProto& model);

// onnx::checker (full) and strict shape inference; throws mlopt::Error naming `what`.
void check_onnx(const onnx::ModelProto& model, const std::string& what);

}  // namespace mlopt::quant
