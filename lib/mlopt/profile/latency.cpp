#include "mlopt/profile/latency.h"

#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mlopt/core/error.h"

namespace mlopt {
namespace {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

void check(const LatencyOptions& o) {
  if (o.warmup < 0) fail("--warmup {}: expected 0 or more runs", o.warmup);
  if (o.iters < 0) fail("--iters {}: expected 1 or more runs (0: use --min-time)", o.iters);
  if (o.iters == 0 && !(o.min_time_s > 0)) fail("--min-time {}: expected a positive number of seconds", o.min_time_s);
}

}  // namespace

LatencyStats latency_stats(std::vector<double> samples_ms) {
  LatencyStats s;
  s.samples_ms = samples_ms;
  s.iterations = static_cast<int64_t>(samples_ms.size());
  if (samples_ms.empty()) return s;
  std::sort(samples_ms.begin(), samples_ms.end());
  double sum = 0;
  for (double v : samples_ms) sum += v;
  s.total_s = sum / 1000.0;
  s.mean_ms = sum / static_cast<double>(samples_ms.size());
  double sq = 0;
  for (double v : samples_ms) sq += (v - s.mean_ms) * (v - s.mean_ms);
  // Sample standard deviation (n - 1): the runs are a sample of all runs.
  s.stddev_ms = samples_ms.size() > 1 ? std::sqrt(sq / static_cast<double>(samples_ms.size() - 1)) : 0.0;
  s.cv = s.mean_ms > 0 ? s.stddev_ms / s.mean_ms : 0.0;
  s.min_ms = samples_ms.front();
  s.max_ms = samples_ms.back();
  s.p50_ms = percentile(samples_ms, 0.50);
  s.p90_ms = percentile(samples_ms, 0.90);
  s.p99_ms = percentile(samples_ms, 0.99);
  return s;
}

nlohmann::json LatencyStats::to_json() const {
  return {{"mean", mean_ms}, {"stddev", stddev_ms}, {"min", min_ms}, {"p50", p50_ms}, {"p90", p90_ms},
          {"p99", p99_ms},   {"max", max_ms},       {"cv", cv},      {"iterations", iterations}};
}

LatencyStats measure_latency(const std::function<void()>& run_once, const LatencyOptions& options) {
  check(options);
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < options.warmup; ++i) run_once();
  std::vector<double> samples;
  int64_t target = options.iters > 0 ? options.iters : options.max_iters;
  samples.reserve(static_cast<size_t>(std::min<int64_t>(target, 100000)));
  double timed_s = 0;
  for (int64_t i = 0; i < target; ++i) {
    auto start = clock::now();
    run_once();
    auto end = clock::now();
    double ms = std::chrono::duration<double, std::milli>(end - start).count();
    samples.push_back(ms);
    timed_s += ms / 1000.0;
    if (options.iters == 0 && timed_s >= options.min_time_s && static_cast<int>(samples.size()) >= options.min_iters)
      break;
  }
  return latency_stats(std::move(samples));
}

LatencyStats measure_module_latency(torch::jit::Module& module, const std::vector<at::Tensor>& inputs,
                                    const LatencyOptions& options) {
  std::vector<c10::IValue> args(inputs.begin(), inputs.end());
  torch::NoGradGuard no_grad;
  return with_context("running the model", [&] {
    return measure_latency([&] { module.forward(args); }, options);
  });
}

}  // namespace mlopt
