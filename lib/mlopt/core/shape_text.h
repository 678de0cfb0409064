#pragma once
// How a shape is written in messages and reports, in one of two styles:
//   dims_text  "1x3x224x224"   as input specs write it (--input x:1x3x224x224)
//   sizes_text "[1, 3, 224]"   as PyTorch prints sizes, for errors that sit
//                              beside LibTorch's own (state dicts, server requests)
// A 0-d shape is "scalar" in the first style and "[]" in the second.
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlopt {

inline std::string dims_text(const std::vector<int64_t>& dims) {
  return dims.empty() ? std::string("scalar") : fmt::format("{}", fmt::join(dims, "x"));
}

inline std::string sizes_text(const std::vector<int64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

}  // namespace mlopt
