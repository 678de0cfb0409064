#pragma once
// at::Tensor <-> ONNX TensorProto. Torch-free header.
#include <string>

namespace at {
class Tensor;
}
namespace onnx {
class TensorProto;
}

namespace mlopt::onnx_proto {

// Decodes a TensorProto (raw_data or the typed fields); `what` names it in
// errors. External data and string tensors are refused with a clear message,
// as are data sizes that do not match the shape.
at::Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what);
// Tensor -> TensorProto named `name` (raw data, little endian, contiguous, CPU).
onnx::TensorProto tensor_to_proto(const at::Tensor& tensor, const std::string& name);

}  // namespace mlopt::onnx_proto
