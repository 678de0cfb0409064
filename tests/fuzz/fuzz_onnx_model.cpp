// libFuzzer target: the ONNX loader of verify/profile/quantize. Parses a
// ModelProto from hostile bytes and prepares the graph (opset, initializers
// decoded and size-checked, topological order, subgraphs): every input must
// load or fail with mlopt::Error, never crash or allocate absurdly.
#include <cstdint>
#include <string>

#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/evaluator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto model = mlopt::onnx_eval::Evaluator::from_bytes(bytes, "'fuzz.onnx'");
    // What verify/profile ask of a loaded model before running it.
    model.input_specs();
    model.output_names();
    model.op_types();
    if (model.parameter_count() < 0 || model.parameter_bytes() < 0) __builtin_trap();
  } catch (const mlopt::Error&) {
  }
  return 0;
}
