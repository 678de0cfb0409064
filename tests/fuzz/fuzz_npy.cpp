// libFuzzer target: .npy and .npz parsing (including the zip reader) on hostile bytes.
#include <cstdint>
#include <string>

#include "mlopt/core/error.h"
#include "mlopt/core/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto a = mlopt::parse_npy(bytes, "fuzz.npy");
    if (a.data.size() != static_cast<size_t>(a.numel()) * a.item_size()) __builtin_trap();
  } catch (const mlopt::Error&) {
  }
  try {
    mlopt::parse_npz(bytes, "fuzz.npz");
  } catch (const mlopt::Error&) {
  }
  return 0;
}
