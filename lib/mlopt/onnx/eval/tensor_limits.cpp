#include "mlopt/onnx/eval/tensor_limits.h"

#include <atomic>
#include <cmath>

#include <fmt/ranges.h>

#include "mlopt/core/input_spec.h"
#include "mlopt/core/saturating_count.h"
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {
std::atomic<int64_t>& limit_storage() {
  static std::atomic<int64_t> limit{kMaxSpecElements};
  return limit;
}
}  // namespace

int64_t max_value_elements() { return limit_storage().load(); }
void set_max_value_elements(int64_t limit) { limit_storage().store(limit); }

int64_t checked_numel(const OpContext& c, const std::vector<int64_t>& shape, const std::string& what) {
  for (int64_t d : shape)
    if (d < 0) c.fail(fmt::format("{} [{}] has a negative dim", what, fmt::join(shape, ", ")));
  // A zero dim empties the tensor, but kernels still size per-axis tables by
  // the other dims: they count as if the zero were a one.
  return saturating_numel(shape, /*zero_as_one=*/true);
}

void check_value_shape(const OpContext& c, const std::vector<int64_t>& shape, const std::string& what) {
  int64_t n = checked_numel(c, shape, what);
  if (n > max_value_elements())
    c.fail(fmt::format("{} [{}] would hold {} elements, over the evaluator's limit of {}; refusing before allocating",
                       what, fmt::join(shape, ", "), n == INT64_MAX ? std::string("more than 2^63") : std::to_string(n),
                       max_value_elements()));
}

void check_value_elements(const OpContext& c, double elements, const std::string& what) {
  if (std::isnan(elements) || elements < 0) c.fail(fmt::format("{} is not a valid size", what));
  if (elements > static_cast<double>(max_value_elements()))
    c.fail(fmt::format("{} would hold {:.0f} elements, over the evaluator's limit of {}; refusing before allocating",
                       what, elements, max_value_elements()));
}

}  // namespace mlopt::onnx_eval
