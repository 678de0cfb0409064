#include "mlopt/onnx/eval/tensor_limits.h"

#include <algorithm>
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

namespace {
using Shape = std::vector<int64_t>;

// numpy broadcasting of shapes (a 1 gives way to the other size;
// incompatible sizes take the larger: the kernel refuses them).
Shape broadcast_shape(const std::vector<Shape>& shapes) {
  Shape out;
  for (const Shape& sizes : shapes) {
    if (sizes.size() > out.size()) out.insert(out.begin(), sizes.size() - out.size(), 1);
    size_t offset = out.size() - sizes.size();
    for (size_t d = 0; d < sizes.size(); ++d) {
      int64_t& o = out[offset + d];
      if (o == 1 || (sizes[d] != 1 && sizes[d] > o)) o = sizes[d];
    }
  }
  return out;
}
}  // namespace

void check_broadcast_output(const OpContext& c) {
  std::vector<Shape> shapes;
  for (size_t i = 0; i < c.input_count(); ++i)
    if (c.has_input(i)) shapes.push_back(c.inputs[i].sizes().vec());
  check_value_shape(c, broadcast_shape(shapes), "the broadcast output");
}

void check_matmul_output(const OpContext& c) {
  Shape a = c.input(0).sizes().vec(), b = c.input(1).sizes().vec();
  if (a.empty() || b.empty()) return;  // the kernel refuses scalars
  // Batch dims (all but the last two) broadcast; 1-D operands have none and
  // drop their matrix dim from the output.
  auto batch = [](const Shape& s) { return s.size() > 2 ? Shape(s.begin(), s.end() - 2) : Shape(); };
  Shape shape = broadcast_shape({batch(a), batch(b)});
  if (a.size() >= 2) shape.push_back(a[a.size() - 2]);
  if (b.size() >= 2) shape.push_back(b.back());
  check_value_shape(c, shape, "the MatMul output");
}

int64_t elements_within(uint64_t bytes) {
  if (bytes == 0) return INT64_MAX;
  return static_cast<int64_t>(std::min<uint64_t>(bytes / sizeof(float), INT64_MAX));
}

ValueLimitScope::ValueLimitScope(int64_t max_elements) : saved_(max_value_elements()) {
  set_max_value_elements(std::min(saved_, max_elements));
}
ValueLimitScope::~ValueLimitScope() { set_max_value_elements(saved_); }

}  // namespace mlopt::onnx_eval
