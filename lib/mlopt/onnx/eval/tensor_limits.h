#pragma once
// How large a value one node of an ONNX graph may make. Kernels whose output
// shape comes from data (ConstantOfShape, Range, Expand, Tile, Pad, Resize,
// OneHot, ...) check it before allocating, so that a hostile graph asking
// for 10^12 elements is a one-line error naming the node rather than an
// out-of-memory kill. The default matches what an input spec may ask for.
#include <cstdint>
#include <string>
#include <vector>

namespace mlopt::onnx_eval {

struct OpContext;

int64_t max_value_elements();
// For callers with a tighter budget (the fuzz target; a --max-memory run).
void set_max_value_elements(int64_t limit);

// Elements of `shape` with zero dims counted as ones (per-axis work still
// scales with the other dims), saturating at INT64_MAX; negative dims are an
// error of the node (`what` names the shape: "the Expand shape").
int64_t checked_numel(const OpContext& c, const std::vector<int64_t>& shape, const std::string& what);
// Fails, naming the node, when `shape` is invalid or over the limit.
void check_value_shape(const OpContext& c, const std::vector<int64_t>& shape, const std::string& what);
// The same for a count computed another way (double: may be inf or NaN).
void check_value_elements(const OpContext& c, double elements, const std::string& what);

// Ops whose output is their inputs' broadcast (Add, Where, Max, ...): two
// small inputs, [2^20, 1] and [1, 2^20], make 2^40 elements. Checked before
// the kernel runs; shapes that do not broadcast are left to the kernel's error.
void check_broadcast_output(const OpContext& c);
// MatMul: broadcast batch dims plus [rows of A, columns of B].
void check_matmul_output(const OpContext& c);

// The most elements one value may hold under a memory budget of `bytes`
// (4-byte elements; 0 bytes: no budget, no limit).
int64_t elements_within(uint64_t bytes);

// Sets the value limit for as long as it lives (a --max-memory budget), then
// restores the previous one. A tighter limit already in force is kept.
class ValueLimitScope {
 public:
  explicit ValueLimitScope(int64_t max_elements);
  ~ValueLimitScope();
  ValueLimitScope(const ValueLimitScope&) = delete;
  ValueLimitScope& operator=(const ValueLimitScope&) = delete;

 private:
  int64_t saved_;
};

}  // namespace mlopt::onnx_eval
