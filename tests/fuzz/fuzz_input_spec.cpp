// libFuzzer target: the input-spec parser must accept or reject with mlopt::Error, nothing else.
#include <cstdint>
#include <string>

#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto spec = mlopt::parse_input_spec(text);
    // A parsed spec must print back to a spec that parses to the same shape.
    auto again = mlopt::parse_input_spec(spec.to_string());
    if (again.shape() != spec.shape()) __builtin_trap();
  } catch (const mlopt::Error&) {
  }
  return 0;
}
