#include "mlopt/quantize/engine.h"

#include <ATen/Context.h>

#include <algorithm>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"

namespace mlopt::quant {

namespace {

at::QEngine engine_of(const std::string& name) {
  at::QEngine engine = name == "onednn" ? at::QEngine::ONEDNN : at::QEngine::QNNPACK;
  const auto& supported = at::globalContext().supportedQEngines();
  if (std::find(supported.begin(), supported.end(), engine) == supported.end())
    fail("quantized engine '{}' is not available in this LibTorch build", name);
  return engine;
}

}  // namespace

std::string resolve_engine(const std::string& requested, const std::string& output_path) {
  if (requested == "onednn" || requested == "qnnpack") return requested;
  if (requested != "auto") fail_usage("--engine '{}': expected auto, onednn or qnnpack", requested);
  return extension_of(output_path) == ".ptl" ? "qnnpack" : "onednn";
}

EngineGuard::EngineGuard(const std::string& engine) : previous_(static_cast<int>(at::globalContext().qEngine())) {
  at::globalContext().setQEngine(engine_of(engine));
}

EngineGuard::~EngineGuard() { at::globalContext().setQEngine(static_cast<at::QEngine>(previous_)); }

}  // namespace mlopt::quant
