// libFuzzer target: the ONNX evaluator of verify/profile/quantize. A model
// that loads (see fuzz_onnx_model.cpp) is also run, on small seeded inputs
// made from its input spec, the way verify runs it: every node must compute
// or fail with mlopt::Error naming it, never crash, hang or allocate absurdly.
#include <cstdint>
#include <string>

#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace {
// Inputs beyond this many elements are not made: the fuzzer looks for bugs in
// the kernels, not for how long a large convolution takes.
constexpr int64_t kMaxInputElements = 4096;
// What one value the graph computes may hold: 16 Mi elements (64 MiB of
// float), well under libFuzzer's -malloc_limit_mb.
constexpr int64_t kMaxValueElements = int64_t{1} << 24;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = (mlopt::onnx_eval::set_max_value_elements(kMaxValueElements), true);
  (void)limited;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto model = mlopt::onnx_eval::Evaluator::from_bytes(bytes, "'fuzz.onnx'");
    auto specs = model.input_specs();
    for (const auto& spec : specs)
      if (spec.numel() > kMaxInputElements) return 0;
    auto outputs = model.run(mlopt::random_inputs(specs, 7));
    if (outputs.size() != model.output_names().size()) __builtin_trap();
  } catch (const mlopt::Error&) {
  }
  return 0;
}
