#include "mlopt/profile/ab_timing.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mlopt/core/error.h"

namespace mlopt {
namespace {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

double seconds_of(const std::function<void()>& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The median of `iters` calls of f, each timed on its own (ms).
double round_median_ms(const std::function<void()>& f, int iters) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) ms.push_back(1000.0 * seconds_of(f));
  return quantile(std::move(ms), 0.5);
}

}  // namespace

AbComparison judge_ab(const std::vector<double>& a_round_ms, const std::vector<double>& b_round_ms, double max_noise) {
  if (a_round_ms.size() != b_round_ms.size())
    fail("A/B timing: {} rounds of A but {} of B", a_round_ms.size(), b_round_ms.size());
  AbComparison c;
  c.a_round_ms = a_round_ms;
  c.b_round_ms = b_round_ms;
  c.a_ms = quantile(a_round_ms, 0.5);
  c.b_ms = quantile(b_round_ms, 0.5);
  std::vector<double> ratios;  // a / b per round: each round's speedup
  for (size_t i = 0; i < a_round_ms.size(); ++i)
    if (b_round_ms[i] > 0) ratios.push_back(a_round_ms[i] / b_round_ms[i]);
  // The speedup of the round medians, not of each round: one disturbed round moves neither.
  c.speedup = c.b_ms > 0 ? c.a_ms / c.b_ms : 0;
  const double median_ratio = quantile(ratios, 0.5);
  c.noise = median_ratio > 0 ? (quantile(ratios, 0.75) - quantile(ratios, 0.25)) / median_ratio : 0;
  c.noisy = ratios.size() < 3 || !(c.noise <= max_noise);
  const double margin = std::max(0.03, 2 * c.noise);
  if (c.noisy) c.verdict = "inconclusive";
  else if (c.speedup > 1 + margin) c.verdict = "faster";
  else if (c.speedup < 1 / (1 + margin)) c.verdict = "slower";
  else c.verdict = "same";
  return c;
}

AbComparison time_interleaved(const std::function<void()>& a, const std::function<void()>& b, const AbOptions& o) {
  if (o.rounds < 1) fail("A/B timing: expected 1 or more rounds, got {}", o.rounds);
  for (int i = 0; i < o.warmup; ++i) {
    a();
    b();
  }
  int iters = o.iters_per_round;
  if (iters <= 0) {
    // Calibrated on the slower of the two, so that neither round is shorter than min_round_s.
    const double slowest = std::max({seconds_of(a), seconds_of(b), 1e-6});
    iters = static_cast<int>(std::clamp(std::ceil(o.min_round_s / slowest), 1.0, double(o.max_iters_per_round)));
  }
  std::vector<double> a_ms, b_ms;
  for (int r = 0; r < o.rounds; ++r) {
    if (r % 2 == 0) {
      a_ms.push_back(round_median_ms(a, iters));
      b_ms.push_back(round_median_ms(b, iters));
    } else {
      b_ms.push_back(round_median_ms(b, iters));
      a_ms.push_back(round_median_ms(a, iters));
    }
  }
  return judge_ab(a_ms, b_ms, o.max_noise);
}

nlohmann::json AbComparison::to_json() const {
  return {{"a_ms", a_ms},       {"b_ms", b_ms},     {"speedup", speedup},        {"noise", noise},
          {"noisy", noisy},     {"verdict", verdict}, {"a_round_ms", a_round_ms}, {"b_round_ms", b_round_ms},
          {"method", "interleaved A/B rounds, medians"}};
}

std::string AbComparison::summary() const {
  std::string s = fmt::format("{:.3f} ms -> {:.3f} ms ({:.2f}x, noise {:.1f}% over {} interleaved rounds)", a_ms, b_ms,
                              speedup, 100 * noise, a_round_ms.size());
  if (noisy) s += "; inconclusive: the rounds disagree (busy machine?), the ratio is not a finding";
  return s;
}

}  // namespace mlopt
