#pragma once
// The quantized engine (kernel library) behind quantized:: ops. Packed
// weights are made for the engine that is active when they are packed, and
// re-packed for the loader's engine when an archive is loaded.
#include <string>

namespace mlopt::quant {

// "auto" becomes qnnpack for .ptl (mobile) outputs and onednn otherwise.
std::string resolve_engine(const std::string& requested, const std::string& output_path);

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

}  // namespace mlopt::quant
