#pragma once
// Counting the elements and bytes of tensors whose sizes come from untrusted
// input (specs, weight files, ONNX graphs, Python sources): products and sums
// saturate at the type's maximum instead of wrapping around, so that a single
// comparison with a limit refuses hostile sizes before anything is allocated.
#include <cstdint>
#include <vector>

namespace mlopt {

// a * b for a, b >= 0, INT64_MAX on overflow.
int64_t saturating_mul(int64_t a, int64_t b);
uint64_t saturating_mul(uint64_t a, uint64_t b);
uint64_t saturating_add(uint64_t a, uint64_t b);

// Elements of a tensor of shape `dims` (every dim >= 0: negative dims are the
// caller's to refuse, with its own message), saturating at INT64_MAX.
// `zero_as_one`: a zero dim counts as one, for limits on what kernels size by
// the other dims even when the tensor is empty.
int64_t saturating_numel(const int64_t* dims, size_t count, bool zero_as_one = false);
inline int64_t saturating_numel(const std::vector<int64_t>& dims, bool zero_as_one = false) {
  return saturating_numel(dims.data(), dims.size(), zero_as_one);
}

}  // namespace mlopt
