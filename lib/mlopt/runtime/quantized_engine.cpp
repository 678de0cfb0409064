#include "mlopt/runtime/quantized_engine.h"

#include <ATen/Context.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mlopt/core/error.h"

namespace mlopt {
namespace {

at::QEngine engine_enum(const std::string& name) {
  return name == "onednn" ? at::QEngine::ONEDNN : at::QEngine::QNNPACK;
}

at::QEngine engine_named(const std::string& name) {
  if (!quantized_engine_available(name)) fail("quantized engine '{}' is not available in this LibTorch build", name);
  return engine_enum(name);
}

}  // namespace

bool quantized_engine_available(const std::string& engine) {
  if (engine != "onednn" && engine != "qnnpack") return false;
  const auto& supported = at::globalContext().supportedQEngines();
  return std::find(supported.begin(), supported.end(), engine_enum(engine)) != supported.end();
}

void set_quantized_engine(const std::string& engine) { at::globalContext().setQEngine(engine_named(engine)); }

std::string quantized_engine_of(const std::string& metadata_json) {
  if (metadata_json.empty()) return "";
  auto j = nlohmann::json::parse(metadata_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("engine") || !j["engine"].is_string()) return "";
  std::string engine = j["engine"].get<std::string>();
  return engine == "onednn" || engine == "qnnpack" ? engine : "";
}

EngineGuard::EngineGuard(const std::string& engine) : previous_(static_cast<int>(at::globalContext().qEngine())) {
  at::globalContext().setQEngine(engine_named(engine));
}

EngineGuard::~EngineGuard() { at::globalContext().setQEngine(static_cast<at::QEngine>(previous_)); }

std::vector<std::pair<std::string, std::string>> engine_tuning_env(const std::string& engine, int threads) {
  if (engine == "qnnpack" && threads > 1) return {{"OMP_WAIT_POLICY", "PASSIVE"}};
  return {};
}

}  // namespace mlopt
