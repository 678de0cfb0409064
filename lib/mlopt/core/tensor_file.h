#pragma once
// Conversion between numpy arrays (npy.h) and at::Tensor, and loading named
// input tensors from .npy/.npz files.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "mlopt/core/npy.h"

namespace mlopt {

at::Tensor to_tensor(const NpyArray& array);
NpyArray to_npy(const at::Tensor& tensor);
std::string dtype_name(c10::ScalarType type);
c10::ScalarType scalar_type_of(const std::string& dtype);

// Named tensors from a .npy (one unnamed tensor, named "") or .npz file.
std::vector<std::pair<std::string, at::Tensor>> load_tensors(const std::string& path);
void save_tensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors);

}  // namespace mlopt
