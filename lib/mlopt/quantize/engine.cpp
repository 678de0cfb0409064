#include "mlopt/quantize/engine.h"

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"

namespace mlopt::quant {

std::string resolve_engine(const std::string& requested, const std::string& output_path) {
  if (requested == "onednn" || requested == "qnnpack") return requested;
  if (requested != "auto") fail_usage("--engine '{}': expected auto, onednn or qnnpack", requested);
  return extension_of(output_path) == ".ptl" ? "qnnpack" : "onednn";
}

}  // namespace mlopt::quant
