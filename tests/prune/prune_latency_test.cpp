// prune's before/after latency is timed interleaved in one process
// (profile/ab_timing.h) and comes with a noise verdict.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "profile/ab_verdict.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

TEST_CASE("prune: the before/after latency comes from interleaved rounds with a noise verdict", "[prune]") {
  const std::vector<std::string> args = {"prune", test_data("prune/digits_cnn.pt"), "--method", "channel", "--amount",
                                         "0.5", "--input", "x:1x1x8x8", "--threads", "1",
                                         "-o", temp_dir("prune_latency") + "/p.pt"};
  auto text = run_mlopt(args);
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("over interleaved rounds"));

  auto with_json = args;
  with_json.push_back("--json");
  auto r = run_mlopt(with_json);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  auto latency = j["totals"];
  INFO(r.out);
  CHECK(mlopt::test::is_ab_verdict(latency["latency_verdict"].get<std::string>()));
  CHECK(latency["latency_noise"].get<double>() >= 0);
  CHECK(latency["latency_ratio"].get<double>() ==
        Approx(latency["latency_ms_before"].get<double>() / latency["latency_ms_after"].get<double>()));
}
