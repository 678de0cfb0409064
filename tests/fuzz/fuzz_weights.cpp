// libFuzzer target: weight files (.pth zip+pickle, .safetensors) from hostile bytes.
#include <unistd.h>

#include <cstdint>
#include <string>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/weights_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = "/tmp/mlopt-fuzz-weights-" + std::to_string(getpid());
  std::string bytes(reinterpret_cast<const char*>(data), size);
  for (const char* ext : {".pth", ".safetensors"}) {
    std::string path = dir + ext;
    mlopt::write_file_atomically(path, bytes);
    try {
      mlopt::load_weights(path);
    } catch (const mlopt::Error&) {
    }
  }
  return 0;
}
