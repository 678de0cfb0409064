#pragma once
// How many Loop iterations one run of a graph may take, every Loop node
// (nested ones included) counted together. A Loop whose trip count is 2^62
// and whose condition never turns false would otherwise run for ever; past
// the budget it is a one-line error naming the node.
#include <cstdint>

namespace mlopt::onnx_eval {

struct OpContext;

int64_t max_loop_iterations();
// For callers with another budget (tests; a caller that knows its models).
void set_max_loop_iterations(int64_t limit);

// Starts the count for one run of the main graph (this thread).
void reset_loop_iterations();
// Counts one iteration of the Loop node `c`, whose trip count is `trip_count`
// (INT64_MAX when it has none); fails when the run's budget is spent.
void count_loop_iteration(const OpContext& c, int64_t trip_count);

}  // namespace mlopt::onnx_eval
