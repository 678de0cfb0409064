#include "mlopt/onnx/proto/dtype.h"

#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <utility>

#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"

namespace mlopt::onnx_proto {

namespace {

using TP = onnx::TensorProto;

// The types both sides have; everything else is refused by name.
constexpr std::pair<c10::ScalarType, int32_t> kTypes[] = {
    {at::kFloat, TP::FLOAT}, {at::kDouble, TP::DOUBLE}, {at::kHalf, TP::FLOAT16}, {at::kBFloat16, TP::BFLOAT16},
    {at::kLong, TP::INT64},  {at::kInt, TP::INT32},     {at::kShort, TP::INT16},  {at::kChar, TP::INT8},
    {at::kByte, TP::UINT8},  {at::kBool, TP::BOOL},
};

}  // namespace

int32_t onnx_type_of(c10::ScalarType type) {
  for (const auto& [torch_type, onnx_type] : kTypes)
    if (torch_type == type) return onnx_type;
  fail("dtype {} has no ONNX equivalent", c10::toString(type));
}

c10::ScalarType scalar_type_of_onnx(int32_t onnx_type, const std::string& what) {
  for (const auto& [torch_type, t] : kTypes)
    if (t == onnx_type) return torch_type;
  fail("{}: ONNX data type {} is not supported by the evaluator", what,
       TP::DataType_Name(static_cast<TP::DataType>(onnx_type)));
}

std::string onnx_dtype_name(int32_t onnx_type) {
  for (const auto& [torch_type, t] : kTypes)
    if (t == onnx_type) return dtype_name(torch_type);
  return "";
}

}  // namespace mlopt::onnx_proto
