#include "mlopt/onnx/eval/loop_budget.h"

#include <atomic>

#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

// 2^20: far beyond the loops exporters emit (over tokens, boxes, time steps),
// and a few seconds of a small body.
std::atomic<int64_t>& limit_storage() {
  static std::atomic<int64_t> limit{int64_t{1} << 20};
  return limit;
}

thread_local int64_t iterations_this_run = 0;

}  // namespace

int64_t max_loop_iterations() { return limit_storage().load(); }
void set_max_loop_iterations(int64_t limit) { limit_storage().store(limit); }

void reset_loop_iterations() { iterations_this_run = 0; }

void count_loop_iteration(const OpContext& c, int64_t trip_count) {
  if (++iterations_this_run <= max_loop_iterations()) return;
  std::string trips = trip_count == INT64_MAX ? std::string("no trip count") : fmt::format("trip count {}", trip_count);
  c.fail(fmt::format("Loop iterations in this run passed the evaluator's budget of {} ({}, condition still true)",
                     max_loop_iterations(), trips));
}

}  // namespace mlopt::onnx_eval
