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

}  // namespace mlopt::onnx_eval
