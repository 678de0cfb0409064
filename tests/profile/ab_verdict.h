#pragma once
// The verdicts profile/ab_timing.h's judge_ab gives, for tests that check a
// report carries one (prune's and quantize's before/after latencies).
#include <string>

namespace mlopt::test {

inline bool is_ab_verdict(const std::string& v) {
  return v == "faster" || v == "slower" || v == "same" || v == "inconclusive";
}

}  // namespace mlopt::test
