// quantize's float/quantized latency is timed interleaved in one process
// (profile/ab_timing.h) and comes with a noise verdict.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "profile/ab_verdict.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

TEST_CASE("quantize: the float/int8 latency comes from interleaved rounds with a noise verdict", "[quantize]") {
  auto r = run_mlopt({"quantize", test_data("quantize_digits_mlp.pt"), "--input", "x:batch=4x1x8x8", "--mode",
                      "dynamic", "--latency-iters", "6", "--threads", "1", "--json", "-o",
                      temp_dir("quantize_latency") + "/q.pt"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto latency = nlohmann::json::parse(r.out)["latency"];
  INFO(latency.dump());
  CHECK(mlopt::test::is_ab_verdict(latency["verdict"].get<std::string>()));
  CHECK(latency["noise"].get<double>() >= 0);
  CHECK(latency["speedup"].get<double>() ==
        Approx(latency["float_ms"].get<double>() / latency["quantized_ms"].get<double>()).epsilon(1e-6));
}

// A model whose run takes seconds (a video transformer) must not spend
// --latency-iters timed runs and warm-ups per round on the comparison: within
// --latency-time each side gets at least one timed run in each of the 5 rounds.
TEST_CASE("quantize: the latency comparison fits --latency-time with at least one run a round", "[quantize]") {
  const std::string dir = temp_dir("quantize_latency_budget");
  auto quantize = [&](const std::string& seconds) {
    return run_mlopt({"quantize", test_data("quantize_digits_mlp.pt"), "--input", "x:batch=4x1x8x8", "--mode",
                      "dynamic", "--latency-iters", "20", "--latency-time", seconds, "--threads", "1", "--json", "-o",
                      dir + "/q.pt"});
  };
  auto roomy = quantize("60"), tight = quantize("0.000001");
  INFO(roomy.err << tight.err);
  REQUIRE(roomy.exit_code == 0);
  REQUIRE(tight.exit_code == 0);
  CHECK(nlohmann::json::parse(roomy.out)["latency"]["runs"] == 20);  // 4 timed runs in each of 5 rounds
  auto latency = nlohmann::json::parse(tight.out)["latency"];
  CHECK(latency["runs"] == 5);
  CHECK(latency["quantized_ms"].get<double>() > 0);
  CHECK(tight.err.find("1 timed run(s) of each in each of the 5 rounds, within --latency-time") != std::string::npos);

  auto zero = quantize("0");
  CHECK(zero.exit_code == 2);
  CHECK(zero.err.find("--latency-time 0: expected a positive number of seconds") != std::string::npos);
}
