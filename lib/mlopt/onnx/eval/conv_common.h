#pragma once
// Shared by Conv, ConvInteger and QLinearConv: ONNX padding (pads, auto_pad)
// applied before an ATen convolution.
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {

// Computes conv(x, w, bias) with the node's strides/dilations/pads/auto_pad/group.
// `pad_value` fills explicit padding (a zero point for integer convolutions).
at::Tensor run_conv(const OpContext& c, const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias,
                    double pad_value = 0.0);

// The begin/end pads for each spatial dim under `auto_pad` (SAME_UPPER/LOWER, VALID, NOTSET).
std::vector<int64_t> resolve_pads(const OpContext& c, const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                                  const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations);

}  // namespace mlopt::onnx_eval
