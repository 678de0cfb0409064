#pragma once
// The server's one clock: request, batch and load times are steady-clock
// intervals (wall-clock jumps must not make a latency negative).
#include <chrono>

namespace mlopt::serving {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace mlopt::serving
