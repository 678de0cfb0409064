#pragma once
// How many times the quantize result says a quantized kernel runs (0 = none),
// shared by the TorchScript quantize tests.
#include <cstdint>
#include <string>

#include "mlopt/quantize/quantize.h"

namespace mlopt::test {

inline int64_t count_op(const mlopt::QuantizeResult& r, const std::string& op) {
  for (const auto& [name, n] : r.quantized_ops)
    if (name == op) return n;
  return 0;
}

}  // namespace mlopt::test
