#pragma once
// How long a phase of quantize took, in the verbose log (-v): a large model's
// quantize takes minutes, and this says where they go.
#include <chrono>
#include <string>
#include <utility>

#include "mlopt/core/log.h"

namespace mlopt::quant {

class PhaseTimer {
 public:
  explicit PhaseTimer(std::string what) : what_(std::move(what)), start_(std::chrono::steady_clock::now()) {}
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;
  ~PhaseTimer() {
    std::chrono::duration<double> s = std::chrono::steady_clock::now() - start_;
    log::debug("quantize: {} took {:.1f} s", what_, s.count());
  }

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace mlopt::quant
