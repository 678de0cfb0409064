#include <catch2/catch.hpp>
#include <torch/script.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "mlopt/core/error.h"
#include "mlopt/profile/latency.h"

using namespace mlopt;

TEST_CASE("latency: statistics of known samples", "[profile]") {
  auto s = latency_stats({5, 1, 4, 2, 3});
  CHECK(s.iterations == 5);
  CHECK(s.mean_ms == Approx(3));
  CHECK(s.min_ms == 1);
  CHECK(s.max_ms == 5);
  CHECK(s.p50_ms == Approx(3));
  CHECK(s.p90_ms == Approx(4.6));   // numpy.percentile([1..5], 90, interpolation linear)
  CHECK(s.p99_ms == Approx(4.96));
  CHECK(s.stddev_ms == Approx(std::sqrt(2.5)));
  CHECK(s.cv == Approx(std::sqrt(2.5) / 3));
  CHECK(s.total_s == Approx(0.015));
  auto j = s.to_json();
  CHECK(j["p50"].get<double>() == Approx(3));
  CHECK(j["iterations"].get<int64_t>() == 5);
}

TEST_CASE("latency: warm-up is excluded and iters is exact", "[profile]") {
  int calls = 0;
  LatencyOptions o;
  o.warmup = 3;
  o.iters = 7;
  auto s = measure_latency([&] { ++calls; }, o);
  CHECK(calls == 10);
  CHECK(s.iterations == 7);
  CHECK(s.samples_ms.size() == 7);
}

TEST_CASE("latency: min-time stops once enough time is measured and times real work", "[profile]") {
  LatencyOptions o;
  o.warmup = 0;
  o.min_time_s = 0.05;
  o.min_iters = 3;
  auto s = measure_latency([] { std::this_thread::sleep_for(std::chrono::milliseconds(10)); }, o);
  CHECK(s.iterations >= 3);
  CHECK(s.iterations <= 8);
  CHECK(s.total_s >= 0.05);
  CHECK(s.min_ms >= 10.0);
  CHECK(s.p50_ms < 20.0);
}

TEST_CASE("latency: bad options are errors", "[profile]") {
  LatencyOptions o;
  o.iters = 0;
  o.min_time_s = 0;
  CHECK_THROWS_AS(measure_latency([] {}, o), Error);
  o.iters = -1;
  CHECK_THROWS_AS(measure_latency([] {}, o), Error);
}

TEST_CASE("latency: times a TorchScript module's forward", "[profile]") {
  torch::jit::Module m("m");
  m.define("def forward(self, x):\n  return x.matmul(x).relu()\n");
  LatencyOptions o;
  o.warmup = 2;
  o.iters = 5;
  auto s = measure_module_latency(m, {torch::randn({64, 64})}, o);
  CHECK(s.iterations == 5);
  CHECK(s.min_ms > 0);
  CHECK(s.min_ms <= s.p50_ms);
  CHECK(s.p50_ms <= s.max_ms);
}
