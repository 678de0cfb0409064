#pragma once
// The quantized engine (kernel library) behind quantized:: ops: onednn (x86)
// or qnnpack (mobile). Int8 weights are packed for the engine that is active
// when they are packed -- when a model is quantized, and again each time an
// archive is loaded -- and some ops (quantized add, for one) pick their kernels
// by the active engine when they run.
#include <string>

namespace mlopt {

// Makes `engine` (onednn | qnnpack) the process's quantized engine; one line
// when this LibTorch build lacks it.
void set_quantized_engine(const std::string& engine);
// Whether this LibTorch build has `engine` (onednn | qnnpack).
bool quantized_engine_available(const std::string& engine);

// The engine an artifact's metadata (mlopt.json "engine") says its int8 weights
// were made for, or "" (a float artifact, or one mlopt did not write).
std::string quantized_engine_of(const std::string& metadata_json);

// Selects the engine for the life of the guard (restores the previous one).
class EngineGuard {
 public:
  explicit EngineGuard(const std::string& engine);
  ~EngineGuard();
  EngineGuard(const EngineGuard&) = delete;
  EngineGuard& operator=(const EngineGuard&) = delete;

 private:
  int previous_;
};

}  // namespace mlopt
