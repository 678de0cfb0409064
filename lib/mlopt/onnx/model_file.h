#pragma once
// Writes an ONNX model to its file atomically, serialized straight into the
// temporary file through a large buffer: no in-memory copy of the serialized
// model (it is the size of the weights), and a few dozen write calls instead of
// the thousands of 8 KB ones a std::ofstream makes.
#include <onnx/onnx_pb.h>

#include <string>

namespace mlopt::onnx_export {

void write_model_file(const onnx::ModelProto& model, const std::string& path);

}  // namespace mlopt::onnx_export
