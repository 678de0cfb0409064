#pragma once
// Calibration for static int8 ONNX: the float graph runs in the built-in
// evaluator with the observed activations exposed as extra outputs; their
// ranges are chosen like the TorchScript observers do (min/max, histogram L2
// search, percentile; observers.h).
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <map>
#include <string>
#include <vector>

#include "mlopt/quantize/observers.h"

namespace mlopt::quant {

std::map<std::string, Range> calibrate_onnx(const onnx::ModelProto& model, const std::vector<std::string>& values,
                                            const std::vector<std::vector<at::Tensor>>& batches,
                                            const std::string& method, double percentile);

}  // namespace mlopt::quant
