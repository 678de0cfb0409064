#include "mlopt/onnx/proto/tensor.h"

#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <cstring>

#include "mlopt/core/error.h"
#include "mlopt/onnx/proto/dtype.h"

namespace mlopt::onnx_proto {

namespace {

// Copies a typed repeated field into a tensor of `type` (ONNX stores int8..int32,
// bool and float16 in int32_data; the float16 entries are raw bit patterns).
template <typename Field>
at::Tensor from_field(const Field& field, c10::ScalarType type, const std::vector<int64_t>& shape, int64_t numel,
                      const std::string& what) {
  if (field.size() != numel) fail("{}: holds {} values, its shape needs {}", what, field.size(), numel);
  using Elem = typename Field::value_type;
  std::vector<Elem> values(field.begin(), field.end());
  at::ScalarType source;
  if constexpr (std::is_same_v<Elem, float>) source = at::kFloat;
  else if constexpr (std::is_same_v<Elem, double>) source = at::kDouble;
  else if constexpr (std::is_same_v<Elem, int64_t>) source = at::kLong;
  else if constexpr (std::is_same_v<Elem, uint64_t>) source = at::kLong;
  else source = at::kInt;
  auto t = torch::from_blob(values.data(), {numel}, source).clone();
  if ((type == at::kHalf || type == at::kBFloat16) && source == at::kInt) {
    // Bit patterns: keep the low 16 bits and reinterpret.
    auto bits = t.to(at::kShort);
    return bits.view(type).reshape(shape);
  }
  return t.to(type).reshape(shape);
}

}  // namespace

at::Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& what) {
  if (p.data_location() == onnx::TensorProto::EXTERNAL || p.external_data_size() > 0)
    fail("{}: tensor data is stored in an external file; the evaluator reads self-contained models only", what);
  if (p.data_type() == onnx::TensorProto::STRING) fail("{}: string tensors are not supported", what);
  c10::ScalarType type = scalar_type_of_onnx(p.data_type(), what);
  std::vector<int64_t> shape(p.dims().begin(), p.dims().end());
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) fail("{}: negative dimension {}", what, d);
    if (d > 0 && numel > (int64_t{1} << 40) / d) fail("{}: too many elements", what);
    numel *= d;
  }
  if (p.has_raw_data()) {
    size_t bytes = static_cast<size_t>(numel) * c10::elementSize(type);
    if (p.raw_data().size() != bytes)
      fail("{}: raw data has {} bytes, its shape and type need {}", what, p.raw_data().size(), bytes);
    auto t = torch::empty(shape, type);
    if (bytes) std::memcpy(t.data_ptr(), p.raw_data().data(), bytes);
    return t;
  }
  switch (type) {
    case at::kFloat: return from_field(p.float_data(), type, shape, numel, what);
    case at::kDouble: return from_field(p.double_data(), type, shape, numel, what);
    case at::kLong: return from_field(p.int64_data(), type, shape, numel, what);
    default: return from_field(p.int32_data(), type, shape, numel, what);
  }
}

onnx::TensorProto tensor_to_proto(const at::Tensor& tensor, const std::string& name) {
  onnx::TensorProto p;
  p.set_name(name);
  at::Tensor c = tensor.detach().to(at::kCPU).contiguous();
  p.set_data_type(onnx_type_of(c.scalar_type()));
  for (int64_t d : c.sizes()) p.add_dims(d);
  p.set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.nbytes()));
  return p;
}

}  // namespace mlopt::onnx_proto
