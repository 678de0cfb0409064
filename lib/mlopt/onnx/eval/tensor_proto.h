#pragma once
// ONNX TensorProto <-> at::Tensor.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <string>

namespace mlopt::onnx_eval {

// Decodes a TensorProto (raw_data or the typed fields); `what` names it in
// errors. External data and string tensors are refused with a clear message.
at::Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what);
onnx::TensorProto tensor_to_proto(const at::Tensor& tensor, const std::string& name);

c10::ScalarType scalar_type_of_onnx(int32_t onnx_type, const std::string& what);
int32_t onnx_type_of(c10::ScalarType type);

}  // namespace mlopt::onnx_eval

namespace mlopt::onnx_eval {
// mlopt dtype name ("float32", ...) of an ONNX element type ("float32" for unknown).
std::string dtype_of_onnx(int32_t onnx_type);
}  // namespace mlopt::onnx_eval
