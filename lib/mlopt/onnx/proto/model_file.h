#pragma once
// Reading and writing ONNX model files.
//
// Reading is hardened: the whole file is parsed with the 2 GB protobuf limit
// and must be consumed entirely; a missing, empty, truncated or non-ONNX file
// is one error line naming it, never a crash.
//
// Writing writes the model to its file atomically, serialized straight into the
// temporary file through a large buffer: no in-memory copy of the serialized
// model (it is the size of the weights), and a few dozen write calls instead of
// the thousands of 8 KB ones a std::ofstream makes.
#include <onnx/onnx_pb.h>

#include <string>

namespace mlopt::onnx_proto {

// Parses serialized bytes; `what` names their source in errors.
onnx::ModelProto parse_model(const std::string& bytes, const std::string& what);
// Reads and parses the model file at `path` (errors name it as 'path').
onnx::ModelProto read_model_file(const std::string& path);

void write_model_file(const onnx::ModelProto& model, const std::string& path);

}  // namespace mlopt::onnx_proto
