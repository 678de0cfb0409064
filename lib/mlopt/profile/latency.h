#pragma once
// The timing harness: runs a callable after a warm-up, either a fixed number of
// times or until a minimum time has been measured, and summarizes the samples.
// Torch-free: the module convenience below forward-declares its types.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace at {
class Tensor;
}
namespace torch::jit {
struct Module;
}

namespace mlopt {

struct LatencyOptions {
  int warmup = 10;          // untimed runs first (allocator, JIT profiling executor, caches)
  int iters = 0;            // > 0: exactly this many timed runs
  double min_time_s = 1.0;  // iters == 0: run until this much time has been timed...
  int min_iters = 5;        // ...and at least this many runs
  int max_iters = 1000000;  // ...and at most this many
};

struct LatencyStats {
  int64_t iterations = 0;
  double total_s = 0;  // sum of the timed runs
  double mean_ms = 0, stddev_ms = 0, min_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  double cv = 0;  // coefficient of variation: stddev / mean
  std::vector<double> samples_ms;  // every timed run, in order

  // {"mean":..,"stddev":..,"min":..,"p50":..,"p90":..,"p99":..,"max":..} in ms, plus iterations and cv.
  nlohmann::json to_json() const;
};

// Statistics of latency samples (milliseconds); percentiles interpolate linearly.
LatencyStats latency_stats(std::vector<double> samples_ms);

// Times `run_once`: options.warmup untimed calls, then timed calls until
// options.iters calls, or options.min_time_s of measured time, have passed.
// Each call is timed on its own with a steady clock.
LatencyStats measure_latency(const std::function<void()>& run_once, const LatencyOptions& options);

// Times `module.forward(inputs)` as a user runs it: no autograd, outputs dropped.
LatencyStats measure_module_latency(torch::jit::Module& module, const std::vector<at::Tensor>& inputs,
                                    const LatencyOptions& options);

}  // namespace mlopt
