#pragma once
// Before/after latency comparisons timed the way a shared machine allows: A and
// B interleaved in one process (rounds alternate A,B / B,A, so a change in
// machine load hits both), the median of each round, the ratio of the medians
// over rounds, and a noise verdict from how much the per-round ratios disagree.
// Used by prune, quantize, `profile --compare` and the pipeline's gates.
// Torch-free.
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mlopt {

// Exit code of a check that could not be decided: a gate or --min-speedup whose
// latency figure stayed noisy after re-measuring (docs/exit-codes.md).
constexpr int kExitInconclusive = 4;

struct AbOptions {
  int warmup = 5;            // untimed runs of each before the first round
  int rounds = 7;            // timed rounds (3 or more for a verdict)
  int iters_per_round = 0;   // calls of each per round; 0: enough for min_round_s
  double min_round_s = 0.1;  // ...seconds of each per round, when iters_per_round is 0
  int max_iters_per_round = 1000;
  double max_noise = 0.05;   // a relative spread of the per-round ratios above this is "noisy"
};

struct AbComparison {
  std::vector<double> a_round_ms, b_round_ms;  // the median call of each round
  double a_ms = 0, b_ms = 0;  // medians of the round medians
  double speedup = 0;         // a / b: above 1, B is faster
  double noise = 0;           // (q75 - q25) / median of the per-round ratios
  bool noisy = false;         // noise above max_noise, or fewer than 3 rounds
  // "faster" | "slower" | "same" (B against A), or "inconclusive" when noisy.
  std::string verdict;
  nlohmann::json to_json() const;
  // "3.210 ms -> 1.020 ms (3.15x, noise 1.2%)" plus "; inconclusive: ..." when noisy.
  std::string summary() const;
};

// The verdict from per-round medians (what time_interleaved measured, or
// samples injected by a test). A change within the noise (and within 3%) is "same".
AbComparison judge_ab(const std::vector<double>& a_round_ms, const std::vector<double>& b_round_ms,
                      double max_noise = 0.05);

// Times `a` and `b` interleaved (see above) and judges them.
AbComparison time_interleaved(const std::function<void()>& a, const std::function<void()>& b,
                              const AbOptions& options = {});

}  // namespace mlopt
