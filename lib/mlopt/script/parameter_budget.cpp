#include "mlopt/script/parameter_budget.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/memory_budget.h"

namespace mlopt::script {

namespace {
std::atomic<uint64_t>& default_limit() {
  static std::atomic<uint64_t> limit{static_cast<uint64_t>(kMaxSpecElements) * sizeof(float)};
  return limit;
}
}  // namespace

uint64_t ParameterBudget::default_limit_bytes() { return default_limit().load(); }
void ParameterBudget::set_default_limit_bytes(uint64_t bytes) { default_limit().store(bytes); }

void ParameterBudget::reserve(at::IntArrayRef shape, at::ScalarType dtype, const std::string& what) {
  // In double: the product of hostile dims overflows int64.
  double elements = 1;
  for (int64_t d : shape) {
    if (d < 0) fail("{}: a tensor of shape [{}] has a negative dimension", what, fmt::join(shape, ", "));
    elements *= static_cast<double>(d);
  }
  reserve_elements(elements, dtype, what);
}

void ParameterBudget::reserve_elements(double elements, at::ScalarType dtype, const std::string& what) {
  if (std::isnan(elements) || elements < 0) fail("{}: {} is not a valid tensor size", what, elements);
  double bytes = elements * static_cast<double>(c10::elementSize(dtype));
  if (static_cast<double>(used_) + bytes > static_cast<double>(limit_)) {
    auto shown = bytes >= 1.8e19 ? std::string("more than 16 EiB") : format_bytes(static_cast<uint64_t>(bytes));
    fail("{}: its parameters/buffers would take {} ({:.0f} elements), bringing the model to more than the limit of {} "
         "for a scripted model's parameters and buffers; refusing before allocating",
         what, shown, elements, format_bytes(limit_));
  }
  used_ += static_cast<uint64_t>(bytes);
}

}  // namespace mlopt::script
