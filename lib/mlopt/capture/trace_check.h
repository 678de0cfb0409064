#pragma once
// Checks a traced module against the module it was traced from on fresh
// random inputs. Dynamic dims of the specs take other sizes than the example,
// so sizes the trace fixed show up as failures too.
#include <torch/script.h>

#include <vector>

#include "mlopt/capture/trace.h"
#include "mlopt/core/input_spec.h"

namespace mlopt {

struct TraceCheckSettings {
  int count = 3;
  uint64_t seed = 0;
  double rtol = 1e-4, atol = 1e-5;
};

// The specs of check input `index` (1-based): every dynamic dim grows by `index`.
std::vector<InputSpec> check_input_specs(const std::vector<InputSpec>& specs, int index);

// Runs `count` checks (stopping at the first failure); never throws for a
// mismatch, only when the source module itself cannot run the inputs.
std::vector<TraceCheck> check_trace(torch::jit::Module& source, torch::jit::Module& traced,
                                    const std::vector<InputSpec>& specs, const TraceCheckSettings& settings);

}  // namespace mlopt
