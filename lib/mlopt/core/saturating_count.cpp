#include "mlopt/core/saturating_count.h"

#include <limits>

namespace mlopt {

int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<int64_t>::max();
  return product;
}

uint64_t saturating_mul(uint64_t a, uint64_t b) {
  uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<uint64_t>::max();
  return product;
}

uint64_t saturating_add(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::numeric_limits<uint64_t>::max();
  return sum;
}

int64_t saturating_numel(const int64_t* dims, size_t count, bool zero_as_one) {
  int64_t n = 1;
  for (size_t i = 0; i < count; ++i) {
    if (dims[i] == 0 && zero_as_one) continue;
    n = saturating_mul(n, dims[i]);
  }
  return n;
}

}  // namespace mlopt
