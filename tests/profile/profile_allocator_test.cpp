// profile's default-process figure, the tuned-allocator figure it recommends
// (measured by a second process), and --compare timed interleaved.
#include <catch2/catch.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mlopt/core/allocator_tuning.h"
#include "mlopt/profile/profile.h"
#include "support/test_support.h"

using namespace mlopt;

TEST_CASE("mlopt profile: default-process figures, the tuned figure beside them with its settings", "[profile]") {
  auto r = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--iters", "5", "--warmup", "1",
                            "--threads", "1", "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["allocator"] == "default");
  // The default figure comes from a fresh process, with the options it was given.
  CHECK(j["timed_in"] == "fresh process");
  CHECK(j["latency_ms"]["iterations"] == 5);
  // ... three of them (a default process's latency turns on its heap layout): the median one's figures.
  CHECK(j["processes"] == 3);
  auto p50s = j["runs"][0]["process_p50_ms"].get<std::vector<double>>();
  REQUIRE(p50s.size() == 3);
  std::sort(p50s.begin(), p50s.end());
  CHECK(j["latency_ms"]["p50"].get<double>() == p50s[1]);
  CHECK(j["allocator_settings"] == allocator_tuning_env_text());
  CHECK_THAT(j["allocator_settings"].get<std::string>(),
             Catch::Contains("MALLOC_TRIM_THRESHOLD_=268435456") && Catch::Contains("MALLOC_MMAP_THRESHOLD_="));
  REQUIRE(j["tuned_allocator"].is_object());
  CHECK(j["tuned_allocator"]["latency_ms"]["p50"].get<double>() > 0);
  CHECK(j["tuned_allocator"]["latency_ms"]["iterations"] == 5);
  CHECK(j["runs"][0]["tuned_allocator"]["speedup_p50"].get<double>() > 0);
  CHECK_FALSE(j.contains("tuned_allocator_not_measured"));

  auto text = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--iters", "3", "--warmup", "1"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("latencies of a default process") &&
                           Catch::Contains("timed in 3 fresh processes (the median one's figures)") &&
                           Catch::Contains("p50 in each of the 3 fresh processes: ") &&
                           Catch::Contains("with tuned glibc malloc (recommended for a long-lived serving process: "
                                           "MALLOC_TRIM_THRESHOLD_=268435456"));

  auto skipped = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--iters", "3", "--no-tuned-figure", "--json"});
  REQUIRE(skipped.exit_code == 0);
  CHECK(nlohmann::json::parse(skipped.out)["tuned_allocator_not_measured"] == "--no-tuned-figure");

  auto one = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--iters", "3", "--processes", "1",
                              "--no-tuned-figure"});
  REQUIRE(one.exit_code == 0);
  CHECK_THAT(one.out, Catch::Contains("timed in a fresh process") && !Catch::Contains("p50 in each"));
}

TEST_CASE("mlopt profile --latency-only: timed in its own process, every configuration, nothing else", "[profile]") {
  auto r = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--batch", "1,4", "--threads", "1,2",
                            "--iters", "2", "--warmup", "1", "--latency-only", "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["timed_in"] == "this process");
  CHECK(j["tuned_allocator_not_measured"] == "--latency-only");
  CHECK(j["flops"]["total"] == 0);
  REQUIRE(j["runs"].size() == 4);
  for (const auto& run : j["runs"]) CHECK(run["latency_ms"]["iterations"] == 2);

  // Without it, the same configurations come back from the fresh process in the same order.
  auto full = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--batch", "1,4", "--threads", "1,2",
                               "--iters", "2", "--warmup", "1", "--no-tuned-figure", "--json"});
  REQUIRE(full.exit_code == 0);
  auto f = nlohmann::json::parse(full.out);
  CHECK(f["timed_in"] == "fresh process");
  CHECK(f["flops"]["total"].get<int64_t>() > 0);
  REQUIRE(f["runs"].size() == 4);
  CHECK(f["runs"][1]["batch"] == 1);
  CHECK(f["runs"][1]["threads"] == 2);
  CHECK(f["runs"][2]["batch"] == 4);
  CHECK(f["runs"][2]["flops"].get<int64_t>() == 4 * f["runs"][0]["flops"].get<int64_t>());
  for (const auto& run : f["runs"]) CHECK(run["latency_ms"]["iterations"] == 2);
}

TEST_CASE("profile: a library caller gets the default figure and no tuned one", "[profile]") {
  ProfileOptions o;
  o.model = test::test_data("verify/mlp.pt");
  o.iters = 3;
  o.warmup = 1;
  o.threads = {1};
  auto r = profile(o, {});
  CHECK(r.a.allocator == (allocator_tuned() ? "tuned" : "default"));
  CHECK(r.a.tuned_not_measured == "not run from the mlopt command line");
  CHECK(r.a.timed_in == "this process");
  CHECK_FALSE(r.a.runs.at(0).has_tuned);
}

TEST_CASE("mlopt profile --compare: the B/A ratio comes from interleaved rounds with a noise verdict", "[profile]") {
  auto r = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--compare", test::test_data("verify/mlp.pt"),
                            "--iters", "3", "--warmup", "1", "--threads", "1", "--no-tuned-figure", "--json"});
  REQUIRE(r.exit_code == 0);
  auto ab = nlohmann::json::parse(r.out)["compare"]["interleaved"];
  CHECK(ab["a_round_ms"].size() == 7);
  CHECK(ab["b_round_ms"].size() == 7);
  const std::string verdict = ab["verdict"];
  CHECK((verdict == "same" || verdict == "inconclusive" || verdict == "faster" || verdict == "slower"));
  CHECK(nlohmann::json::parse(r.out)["compare"]["ratios"]["latency_p50"].get<double>() ==
        Approx(ab["b_ms"].get<double>() / ab["a_ms"].get<double>()));
}
