#pragma once
// Which quantized engine a quantize run packs its int8 weights for
// (runtime/quantized_engine.h: the engine itself and its guard).
#include <string>

#include "mlopt/runtime/quantized_engine.h"

namespace mlopt::quant {

using mlopt::EngineGuard;

// "auto" becomes qnnpack for .ptl (mobile) outputs and onednn otherwise.
std::string resolve_engine(const std::string& requested, const std::string& output_path);

}  // namespace mlopt::quant
