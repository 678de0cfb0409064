#pragma once
// .npy / .npz tensor files (numpy's formats), read and written without
// LibTorch so that parsers stay light and fuzzable. See tensor_file.h for the
// conversion to at::Tensor.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlopt {

struct NpyArray {
  std::string dtype;            // mlopt dtype name: float32, int64, bool, ...
  std::vector<int64_t> shape;   // empty: a scalar
  std::string data;             // little-endian, C order
  int64_t numel() const;
  size_t item_size() const;
};

size_t dtype_item_size(const std::string& dtype);

// Parses .npy bytes; `what` names the source in errors.
NpyArray parse_npy(const std::string& bytes, const std::string& what);
std::string serialize_npy(const NpyArray& array);

NpyArray read_npy(const std::string& path);
// npz entries keyed by array name (without the .npy suffix), in archive order.
std::vector<std::pair<std::string, NpyArray>> read_npz(const std::string& path);
std::vector<std::pair<std::string, NpyArray>> parse_npz(const std::string& bytes, const std::string& what);

void write_npy(const std::string& path, const NpyArray& array);
void write_npz(const std::string& path, const std::vector<std::pair<std::string, NpyArray>>& arrays);

}  // namespace mlopt
