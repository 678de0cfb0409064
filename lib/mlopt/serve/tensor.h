#pragma once
// Tensors as the server sees them: a v2 datatype, a shape and raw row-major
// bytes. The HTTP, validation and batching layers work on these, so none of
// them needs LibTorch (only the model adapter converts to at::Tensor).
#include <cstdint>
#include <string>
#include <vector>

namespace mlopt::serving {

// What a model declares for one input or output: -1 marks a dynamic dim.
struct TensorSpec {
  std::string name;
  std::string datatype;  // Open Inference Protocol names: FP32, INT64, BOOL, ...
  std::vector<int64_t> shape;
};

struct HostTensor {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  std::string bytes;  // row-major, native (little-endian) layout

  int64_t numel() const;
};

// A served model's interface: inputs in the order the model takes them.
struct Signature {
  std::string name;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

// Bytes per element of a v2 datatype; 0 for an unknown one.
int64_t element_size(const std::string& datatype);
// mlopt dtype names (float32, int64, ...) <-> v2 datatypes (FP32, INT64, ...).
std::string datatype_of_dtype(const std::string& dtype);
std::string dtype_of_datatype(const std::string& datatype);

}  // namespace mlopt::serving
