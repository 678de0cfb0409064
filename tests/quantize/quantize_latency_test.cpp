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
