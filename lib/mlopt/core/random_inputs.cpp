#include "mlopt/core/random_inputs.h"

#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"

namespace mlopt {

at::Tensor random_input(const InputSpec& spec, at::Generator& gen) {
  auto type = scalar_type_of(spec.dtype);
  auto shape = spec.shape();
  require_within_spec_limit(spec);
  if (type == at::kBool) return at::randint(0, 2, shape, gen, at::TensorOptions(at::kLong)).to(at::kBool);
  if (c10::isIntegralType(type, /*includeBool=*/false)) {
    int64_t low = spec.low ? static_cast<int64_t>(*spec.low) : 0;
    int64_t high = spec.high ? static_cast<int64_t>(*spec.high) : 10;
    return at::randint(low, high, shape, gen, at::TensorOptions(at::kLong)).to(type);
  }
  at::Tensor t;
  if (spec.low && spec.high) {
    t = at::empty(shape, at::kFloat).uniform_(*spec.low, *spec.high, gen);
  } else {
    t = at::empty(shape, at::kFloat).normal_(0.0, 1.0, gen);
  }
  return t.to(type);
}

std::vector<at::Tensor> random_inputs(const std::vector<InputSpec>& specs, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<at::Tensor> out;
  for (const auto& s : specs) out.push_back(random_input(s, gen));
  return out;
}

}  // namespace mlopt
