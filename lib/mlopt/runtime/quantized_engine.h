#pragma once
// The quantized engine (kernel library) behind quantized:: ops: onednn (x86)
// or qnnpack (mobile). Int8 weights are packed for the engine that is active
// when they are packed -- when a model is quantized, and again each time an
// archive is loaded -- and some ops (quantized add, for one) pick their kernels
// by the active engine when they run.
#include <string>
#include <utility>
#include <vector>

namespace mlopt {

// Makes `engine` (onednn | qnnpack) the process's quantized engine; one line
// when this LibTorch build lacks it.
void set_quantized_engine(const std::string& engine);
// Whether this LibTorch build has `engine` (onednn | qnnpack).
bool quantized_engine_available(const std::string& engine);

// The engine an artifact's metadata (mlopt.json "engine") says its int8 weights
// were made for, or "" (a float artifact, or one mlopt did not write).
std::string quantized_engine_of(const std::string& metadata_json);

// Environment settings (name, value) a process that runs `engine`'s int8
// kernels on `threads` threads should start with. On x86 LibTorch QNNPACK
// runs on its own thread pool (pthreadpool) and every other op on OpenMP's;
// libgomp's workers spin-wait after each OpenMP op and hold the cores QNNPACK's
// workers need (squeezenet1_1's int8 .ptl on 2 cores: 92 ms at 2 threads, 19 ms
// at 1, 13 ms at 2 with OMP_WAIT_POLICY=PASSIVE). A mobile build of PyTorch
// has one pool. libgomp reads the setting at start-up only, so it is an
// environment setting; oneDNN runs on OpenMP itself (and float ops lose 3-12%
// with passive workers), so other engines get none.
std::vector<std::pair<std::string, std::string>> engine_tuning_env(const std::string& engine, int threads);

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
