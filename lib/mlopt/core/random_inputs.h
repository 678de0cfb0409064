#pragma once
// Seeded random example inputs from input specs.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "mlopt/core/input_spec.h"

namespace mlopt {

// Floats are standard normal (or uniform in [low, high) when bounds are given);
// integers are uniform in [low, high) (default [0, 10)); bool is a fair coin.
at::Tensor random_input(const InputSpec& spec, at::Generator& gen);
std::vector<at::Tensor> random_inputs(const std::vector<InputSpec>& specs, uint64_t seed);

}  // namespace mlopt
