// The A/B verdict logic on injected per-round medians (no timing), and the
// interleaved timer's shape on two callables.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "mlopt/core/error.h"
#include "mlopt/profile/ab_timing.h"

using namespace mlopt;

TEST_CASE("ab timing: steady rounds give a confident verdict", "[profile]") {
  auto c = judge_ab({10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 10.0}, {5.0, 5.05, 4.95, 5.0, 5.1, 4.9, 5.0});
  CHECK(c.a_ms == Approx(10.0));
  CHECK(c.b_ms == Approx(5.0));
  CHECK(c.speedup == Approx(2.0));
  CHECK(c.noise < 0.01);
  CHECK_FALSE(c.noisy);
  CHECK(c.verdict == "faster");
  CHECK(judge_ab({5, 5, 5, 5, 5}, {10, 10, 10, 10, 10}).verdict == "slower");
  CHECK(judge_ab({5, 5, 5, 5, 5}, {5.05, 5.05, 5.05, 5.05, 5.05}).verdict == "same");
}

TEST_CASE("ab timing: one disturbed round does not move the ratio or the verdict", "[profile]") {
  // Round 3 hit a load spike on B only (a competing process), as prune once reported 0.00x.
  auto c = judge_ab({1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}, {0.5, 0.5, 0.5, 60.0, 0.5, 0.5, 0.5});
  CHECK(c.speedup == Approx(2.0));
  CHECK_FALSE(c.noisy);
  CHECK(c.verdict == "faster");
}

TEST_CASE("ab timing: rounds that disagree are inconclusive, not a finding", "[profile]") {
  // The load changes during the measurement: each round says something else.
  auto c = judge_ab({1.0, 3.0, 1.0, 0.3, 2.0, 1.0, 0.5}, {1.0, 1.0, 2.5, 1.0, 0.4, 0.3, 1.0});
  CHECK(c.noisy);
  CHECK(c.noise > 0.05);
  CHECK(c.verdict == "inconclusive");
  CHECK_THAT(c.summary(), Catch::Contains("inconclusive"));
  CHECK(c.to_json()["verdict"] == "inconclusive");
  // The threshold is the caller's.
  CHECK(judge_ab({1.0, 1.1, 1.0, 1.1, 1.0}, {1.0, 1.0, 1.1, 1.0, 1.1}, 0.5).verdict == "same");
  // Fewer than 3 rounds cannot show how much they agree.
  CHECK(judge_ab({1.0, 1.0}, {0.5, 0.5}).verdict == "inconclusive");
  CHECK_THROWS_AS(judge_ab({1.0, 1.0, 1.0}, {1.0, 1.0}), Error);
}

TEST_CASE("ab timing: time_interleaved runs both in alternating rounds", "[profile]") {
  int a_calls = 0, b_calls = 0;
  std::vector<char> order;
  AbOptions o;
  o.warmup = 2;
  o.rounds = 4;
  o.iters_per_round = 3;
  auto c = time_interleaved([&] { ++a_calls; order.push_back('a'); }, [&] { ++b_calls; order.push_back('b'); }, o);
  CHECK(a_calls == 2 + 4 * 3);
  CHECK(b_calls == 2 + 4 * 3);
  CHECK(c.a_round_ms.size() == 4);
  CHECK(c.b_round_ms.size() == 4);
  // After the warm-up (a b a b): round 1 A then B, round 2 B then A.
  const std::string rounds(order.begin() + 4, order.end());
  CHECK(rounds == "aaabbbbbbaaaaaabbbbbbaaa");
  CHECK_THROWS_AS(time_interleaved([] {}, [] {}, AbOptions{0, 0}), Error);
}
