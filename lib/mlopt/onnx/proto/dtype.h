#pragma once
// ONNX element types <-> LibTorch scalar types <-> mlopt dtype names: the one
// map the exporter, the evaluator, quantize and the pipeline share.
// Torch-free header (c10::ScalarType is declared, not included).
#include <cstdint>
#include <string>

namespace c10 {
enum class ScalarType : int8_t;
}

namespace mlopt::onnx_proto {

// ONNX TensorProto::DataType of a LibTorch dtype; fails for dtypes ONNX has no
// equivalent of (complex, quantized).
int32_t onnx_type_of(c10::ScalarType type);
// LibTorch dtype of an ONNX element type; `what` names the value in the error
// for types mlopt cannot hold in a tensor (string, uint16, ...).
c10::ScalarType scalar_type_of_onnx(int32_t onnx_type, const std::string& what);
// mlopt dtype name ("float32", "int64", ...) of an ONNX element type, or ""
// when mlopt has no tensor dtype for it (callers choose their fallback).
std::string onnx_dtype_name(int32_t onnx_type);

}  // namespace mlopt::onnx_proto
