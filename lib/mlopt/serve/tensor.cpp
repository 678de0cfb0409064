#include "mlopt/serve/tensor.h"

#include <map>

namespace mlopt::serving {
namespace {

struct DatatypeInfo {
  const char* dtype;
  int64_t size;
};

const std::map<std::string, DatatypeInfo>& datatypes() {
  static const std::map<std::string, DatatypeInfo> table = {
      {"BOOL", {"bool", 1}},   {"UINT8", {"uint8", 1}}, {"INT8", {"int8", 1}},       {"INT16", {"int16", 2}},
      {"INT32", {"int32", 4}}, {"INT64", {"int64", 8}}, {"FP16", {"float16", 2}},    {"BF16", {"bfloat16", 2}},
      {"FP32", {"float32", 4}}, {"FP64", {"float64", 8}}};
  return table;
}

}  // namespace

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int64_t element_size(const std::string& datatype) {
  auto it = datatypes().find(datatype);
  return it == datatypes().end() ? 0 : it->second.size;
}

std::string datatype_of_dtype(const std::string& dtype) {
  for (const auto& [name, info] : datatypes())
    if (dtype == info.dtype) return name;
  return "";
}

std::string dtype_of_datatype(const std::string& datatype) {
  auto it = datatypes().find(datatype);
  return it == datatypes().end() ? "" : it->second.dtype;
}

}  // namespace mlopt::serving
