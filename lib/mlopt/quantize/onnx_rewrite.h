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

#include <map>
#include <set>
#include <string>
#include <vector>

#include "mlopt/quantize/observers.h"
#include "mlopt/quantize/onnx_patterns.h"

namespace mlopt::quant {

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
                                       bool per_channel);

onnx::ModelProto convert_fp16(const onnx::ModelProto& model);
// The float model with its float weights rounded through float16: what the
// built-in evaluator (float32 compute) runs to estimate an fp16 file's accuracy.
onnx::ModelProto round_weights_fp16(const onnx::ModelProto& model);

// onnx::checker (full) and strict shape inference; throws mlopt::Error naming `what`.
void check_onnx(const onnx::ModelProto& model, const std::string& what);

}  // namespace mlopt::quant
