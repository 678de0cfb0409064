#include "mlopt/core/tensor_file.h"

#include <torch/script.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"

namespace mlopt {

c10::ScalarType scalar_type_of(const std::string& dtype) {
  static const std::pair<const char*, c10::ScalarType> table[] = {
      {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
      {"int64", at::kLong},    {"int32", at::kInt},      {"int16", at::kShort},  {"int8", at::kChar},
      {"uint8", at::kByte},    {"bool", at::kBool}};
  for (const auto& [name, type] : table)
    if (dtype == name) return type;
  fail("unsupported dtype '{}'", dtype);
}

std::string dtype_name(c10::ScalarType type) {
  switch (type) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(type);
  }
}

at::Tensor to_tensor(const NpyArray& a) {
  // Unsigned types beyond uint8 have no ATen dtype: widen them to int64.
  if (a.dtype == "uint16" || a.dtype == "uint32" || a.dtype == "uint64") {
    auto out = torch::empty(a.shape, at::kLong);
    auto* dst = out.data_ptr<int64_t>();
    for (int64_t i = 0; i < a.numel(); ++i) {
      uint64_t v = 0;
      std::memcpy(&v, a.data.data() + i * a.item_size(), a.item_size());
      dst[i] = static_cast<int64_t>(v);
    }
    return out;
  }
  auto out = torch::empty(a.shape, scalar_type_of(a.dtype));
  std::memcpy(out.data_ptr(), a.data.data(), a.data.size());
  return out;
}

NpyArray to_npy(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  if (c.scalar_type() == at::kBFloat16) c = c.to(at::kFloat);
  if (c.is_quantized()) c = c.dequantize();
  NpyArray a;
  a.dtype = dtype_name(c.scalar_type());
  a.shape = c.sizes().vec();
  a.data.assign(static_cast<const char*>(c.data_ptr()), c.nbytes());
  return a;
}

std::vector<std::pair<std::string, at::Tensor>> load_tensors(const std::string& path) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  std::string ext = extension_of(path);
  if (ext == ".npy") {
    out.emplace_back("", to_tensor(read_npy(path)));
  } else if (ext == ".npz") {
    for (auto& [name, a] : read_npz(path)) out.emplace_back(name, to_tensor(a));
  } else {
    fail("'{}': expected a .npy or .npz tensor file", path);
  }
  return out;
}

void save_tensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  std::string ext = extension_of(path);
  if (ext == ".npy") {
    if (tensors.size() != 1) fail("'{}': a .npy file holds one tensor, got {}; use .npz", path, tensors.size());
    write_npy(path, to_npy(tensors[0].second));
  } else if (ext == ".npz") {
    std::vector<std::pair<std::string, NpyArray>> arrays;
    for (const auto& [name, t] : tensors) arrays.emplace_back(name, to_npy(t));
    write_npz(path, arrays);
  } else {
    fail("'{}': expected a .npy or .npz output path", path);
  }
}

}  // namespace mlopt
