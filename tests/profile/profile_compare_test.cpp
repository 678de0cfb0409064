// profile --compare: the B/A figures (text and --json) are those of A and B
// timed interleaved in one process, per configuration, with a noise verdict;
// the two models' own runs are not compared with each other.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "mlopt/profile/profile.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

ProfileRun run_at(int64_t batch, double p50_ms) {
  ProfileRun r;
  r.batch = batch;
  r.threads = 1;
  r.latency.p50_ms = p50_ms;
  r.latency.mean_ms = p50_ms;
  r.throughput = static_cast<double>(batch) * 1000.0 / p50_ms;
  return r;
}

// A profile of two configurations whose separate p50s say B is 10x slower, while
// the interleaved timing says B is 2x faster at batch 1 and cannot tell at batch 8.
ProfileResult injected() {
  ProfileResult r;
  r.a.path = "a.pt";
  r.a.runs = {run_at(1, 1.0), run_at(8, 4.0)};
  ModelProfile b;
  b.path = "b.pt";
  b.runs = {run_at(1, 10.0), run_at(8, 40.0)};
  r.b = b;
  r.ab.push_back(judge_ab({2.0, 2.0, 2.1, 2.0, 2.0, 1.9, 2.0}, {1.0, 1.0, 1.05, 1.0, 1.0, 0.95, 1.0}));
  r.ab.push_back(judge_ab({4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0}, {2.0, 8.0, 3.0, 6.0, 2.5, 7.0, 4.0}));
  return r;
}

}  // namespace

TEST_CASE("profile --compare text: B/A per configuration from the interleaved timing, with its verdict",
          "[profile]") {
  auto r = injected();
  REQUIRE(r.ab[0].verdict == "faster");
  REQUIRE(r.ab[1].verdict == "inconclusive");
  auto text = r.to_text();
  INFO(text);
  CHECK_THAT(text, Catch::Contains("B vs A, timed interleaved in one process (7 rounds"));
  CHECK_THAT(text, Catch::Contains("B is faster"));
  CHECK_THAT(text, Catch::Contains("inconclusive (the rounds disagree"));
  CHECK_THAT(text, Catch::Contains("0.500x"));  // interleaved: 2.0 ms -> 1.0 ms
  CHECK_THAT(text, !Catch::Contains("10.000x") && !Catch::Contains("A p50 ms"));  // no ratio of the separate runs
}

TEST_CASE("profile --compare json: ratios per configuration from the interleaved timing", "[profile]") {
  auto j = injected().to_json()["compare"];
  CHECK(j["ratios"]["latency_p50"].get<double>() == Approx(0.5));
  CHECK(j["ratios"]["throughput"].get<double>() == Approx(2.0));
  CHECK(j["interleaved"]["verdict"] == "faster");
  REQUIRE(j["ratios"]["runs"].size() == 2);
  const auto& second = j["ratios"]["runs"][1];
  CHECK(second["batch"] == 8);
  CHECK(second["interleaved"]["verdict"] == "inconclusive");
  CHECK(second["latency_p50"].get<double>() ==
        Approx(second["interleaved"]["b_ms"].get<double>() / second["interleaved"]["a_ms"].get<double>()));
  CHECK(second["separate_p50_ms"]["b"].get<double>() == Approx(40.0));
}

TEST_CASE("mlopt profile --compare: every configuration is timed interleaved (text and --json)", "[profile]") {
  const std::vector<std::string> args = {"profile", test::test_data("verify/mlp.pt"), "--compare",
                                         test::test_data("verify/mlp.pt"), "--iters", "3", "--warmup", "1",
                                         "--batch", "1,2", "--threads", "1", "--no-tuned-figure"};
  auto text = test::run_mlopt(args);
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("B vs A, timed interleaved in one process (7 rounds"));
  CHECK_THAT(text.out, !Catch::Contains("A p50 ms"));

  auto with_json = args;
  with_json.push_back("--json");
  auto r = test::run_mlopt(with_json);
  REQUIRE(r.exit_code == 0);
  auto runs = nlohmann::json::parse(r.out)["compare"]["ratios"]["runs"];
  REQUIRE(runs.size() == 2);
  for (const auto& run : runs) {
    CHECK(run["interleaved"]["a_round_ms"].size() == 7);
    CHECK(run["latency_p50"].get<double>() ==
          Approx(run["interleaved"]["b_ms"].get<double>() / run["interleaved"]["a_ms"].get<double>()));
  }
  CHECK(runs[1]["batch"] == 2);
}
