// Drift figures (lib/mlopt/registry/drift.h): PSI, the rolling window and the verdict.
#include <catch2/catch.hpp>

#include <cmath>

#include "mlopt/registry/drift.h"

using namespace mlopt::registry;

namespace {
RowStats row(int64_t cls, double confidence, double input_mean) {
  RowStats r;
  r.inputs.push_back({input_mean * 4, input_mean * input_mean * 4 + 1, 4});
  r.outputs.push_back({cls, confidence, 0});
  return r;
}
}  // namespace

TEST_CASE("registry: population stability index", "[registry][drift]") {
  CHECK(population_stability_index({0.5, 0.5}, {0.5, 0.5}) == Approx(0));
  // (0.8-0.5) ln(0.8/0.5) + (0.2-0.5) ln(0.2/0.5)
  CHECK(population_stability_index({0.5, 0.5}, {0.8, 0.2}) ==
        Approx(0.3 * std::log(1.6) + 0.3 * std::log(2.5)));
  // A class never seen before weighs heavily but finitely.
  const double psi = population_stability_index({0.5, 0.5, 0.0}, {0.4, 0.4, 0.2});
  CHECK(std::isfinite(psi));
  CHECK(psi > 1);
}

TEST_CASE("registry: a bounded window forgets its oldest rows", "[registry][drift]") {
  StatsWindow window(4);
  for (int i = 0; i < 4; ++i) window.add(row(0, 0.9, 0.0));
  for (int i = 0; i < 4; ++i) window.add(row(1, 0.5, 1.0));
  const auto stats = window.to_json({"x"}, {"logits"});
  CHECK(stats["rows"] == 4);
  CHECK(stats["outputs"][0]["class_distribution"][0].get<double>() == Approx(0));
  CHECK(stats["outputs"][0]["class_distribution"][1].get<double>() == Approx(1));
  CHECK(stats["outputs"][0]["mean_confidence"].get<double>() == Approx(0.5));
  CHECK(stats["inputs"][0]["mean"].get<double>() == Approx(1.0));
  CHECK(stats["inputs"][0]["name"] == "x");
}

TEST_CASE("registry: the verdict compares a window with the baseline", "[registry][drift]") {
  StatsWindow base;
  for (int i = 0; i < 100; ++i) base.add(row(i % 2, 0.9, 0.0));
  const auto baseline = base.to_json({"x"}, {"y"});
  Thresholds thresholds;

  StatsWindow same;
  for (int i = 0; i < 100; ++i) same.add(row(i % 2, 0.88, 0.0));
  auto report = compare_to_baseline(baseline, same.to_json({"x"}, {"y"}), thresholds);
  CHECK(report.verdict == "no drift");

  StatsWindow one_class;
  for (int i = 0; i < 100; ++i) one_class.add(row(0, 0.9, 0.0));
  report = compare_to_baseline(baseline, one_class.to_json({"x"}, {"y"}), thresholds);
  CHECK(report.verdict == "drift");
  CHECK(report.figures[0].kind == "class_psi");
  CHECK(report.figures[0].drift);

  StatsWindow shifted;
  for (int i = 0; i < 100; ++i) shifted.add(row(i % 2, 0.9, 0.5));
  report = compare_to_baseline(baseline, shifted.to_json({"x"}, {"y"}), thresholds);
  CHECK(report.verdict == "drift");
  CHECK(report.figures.back().kind == "input_shift");
  CHECK(report.figures.back().drift);

  StatsWindow few;
  few.add(row(0, 0.2, 3.0));
  CHECK(compare_to_baseline(baseline, few.to_json({"x"}, {"y"}), thresholds).verdict == "too few rows");
  CHECK(report.to_markdown("t").find("| input x |") != std::string::npos);
}

TEST_CASE("registry: thresholds come from a map and refuse unknown keys", "[registry][drift]") {
  Thresholds t;
  t.merge({{"max_psi", 0.5}, {"window", 100}}, "publish.monitor");
  CHECK(t.max_psi == 0.5);
  CHECK(t.window == 100);
  CHECK_THROWS_WITH(t.merge({{"max_psy", 1}}, "publish.monitor"), Catch::Contains("unknown key 'max_psy'"));
  CHECK_THROWS_WITH(t.merge({{"max_psi", "high"}}, "publish.monitor"), Catch::Contains("expects a number"));
}

namespace {
RowStats value_row(double value) {
  RowStats r;
  r.inputs.push_back({0, 4, 4});
  r.outputs.push_back({-1, 0, value});
  return r;
}
}  // namespace

TEST_CASE("registry: a regressor output has quantiles and a PSI over the baseline's decile bins", "[registry][drift]") {
  StatsWindow base;
  for (int i = 0; i < 1000; ++i) base.add(value_row(i / 100.0));  // 0 .. 9.99
  const auto baseline = base.to_json({"x"}, {"y"});
  const auto& out = baseline["outputs"][0];
  CHECK(out["kind"] == "regressor");
  CHECK(out["quantiles"]["p50"].get<double>() == Approx(4.995));
  CHECK(out["quantiles"]["p1"].get<double>() == Approx(0.0999));
  CHECK(out["value_bins"]["edges"].size() == 9);
  CHECK(out["value_bins"]["distribution"][0].get<double>() == Approx(0.1));
  Thresholds thresholds;

  // Every other baseline value: the same distribution.
  StatsWindow same(500);  // a bounded window, as serve's
  for (int i = 0; i < 1000; i += 2) same.add(value_row(i / 100.0));
  auto report = compare_to_baseline(baseline, same.to_json({"x"}, {"y"}, baseline), thresholds);
  INFO(report.to_json().dump(1));
  CHECK(report.verdict == "no drift");
  REQUIRE(report.figures[1].kind == "value_psi");
  CHECK(report.figures[1].value < 0.05);

  // The same mean, but spread out: the mean shift misses it, the value PSI does not.
  StatsWindow spread;
  for (int i = 0; i < 500; ++i) spread.add(value_row(i % 2 ? -5 : 15));
  report = compare_to_baseline(baseline, spread.to_json({"x"}, {"y"}, baseline), thresholds);
  CHECK(report.figures[0].kind == "output_shift");
  CHECK_FALSE(report.figures[0].drift);
  CHECK(report.figures[1].drift);
  CHECK(report.verdict == "drift");
  const auto current = spread.to_json({"x"}, {"y"}, baseline);
  CHECK(current["outputs"][0]["value_bins"]["edges"] == out["value_bins"]["edges"]);
  CHECK(current["outputs"][0]["value_bins"]["distribution"][0].get<double>() == Approx(0.5));
  CHECK(current["outputs"][0]["value_bins"]["distribution"][9].get<double>() == Approx(0.5));
  CHECK(report.to_markdown("t").find("| p50 | 4.995 | 5 |") != std::string::npos);
  CHECK(report.to_html("t").find("values in the baseline's decile bins") != std::string::npos);
}
