#include "mlopt/registry/drift.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "mlopt/core/error.h"
#include "mlopt/pipeline/svg_chart.h"

using nlohmann::json;

namespace mlopt::registry {
namespace {

double number_field(const json& j, const std::string& key, const std::string& what) {
  if (!j[key].is_number()) fail("{}: {} expects a number, got {}", what, key, j[key].dump());
  const double v = j[key].get<double>();
  if (!(v >= 0) || !std::isfinite(v)) fail("{}: {} expects a non-negative number, got {}", what, key, j[key].dump());
  return v;
}

std::vector<double> normalized(const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  std::vector<double> p(counts.size(), 0.0);
  if (total > 0)
    for (size_t i = 0; i < counts.size(); ++i) p[i] = counts[i] / total;
  return p;
}

std::vector<double> doubles(const json& j) {
  std::vector<double> v;
  if (j.is_array())
    for (const auto& x : j) v.push_back(x.is_number() ? x.get<double>() : 0.0);
  return v;
}

std::string name_at(const std::vector<std::string>& names, size_t i, const std::string& stem) {
  return i < names.size() && !names[i].empty() ? names[i] : stem + std::to_string(i);
}

}  // namespace

json Thresholds::to_json() const {
  return {{"max_psi", max_psi},       {"max_confidence_shift", max_confidence_shift},
          {"max_input_shift", max_input_shift}, {"max_output_shift", max_output_shift},
          {"window", window},   {"min_rows", min_rows}};
}

void Thresholds::merge(const json& j, const std::string& what) {
  if (j.is_null()) return;
  if (!j.is_object()) fail("{}: expected a map of thresholds, got {}", what, j.dump());
  for (const auto& [key, value] : j.items()) {
    if (key == "max_psi") max_psi = number_field(j, key, what);
    else if (key == "max_confidence_shift") max_confidence_shift = number_field(j, key, what);
    else if (key == "max_input_shift") max_input_shift = number_field(j, key, what);
    else if (key == "max_output_shift") max_output_shift = number_field(j, key, what);
    else if (key == "window") window = std::max<int64_t>(1, static_cast<int64_t>(number_field(j, key, what)));
    else if (key == "min_rows") min_rows = static_cast<int64_t>(number_field(j, key, what));
    else
      fail("{}: unknown key '{}' (expected max_psi, max_confidence_shift, max_input_shift, max_output_shift, window, "
           "min_rows)",
           what, key);
  }
}

StatsWindow::StatsWindow(int64_t capacity) : capacity_(capacity) {}

void StatsWindow::add(const RowStats& row) {
  if (capacity_ > 0) {
    kept_.push_back(row);
    if (static_cast<int64_t>(kept_.size()) > capacity_) {
      apply(kept_.front(), -1);
      kept_.pop_front();
    }
  }
  apply(row, +1);
}

void StatsWindow::apply(const RowStats& row, double sign) {
  count_ += sign;
  if (inputs_.size() < row.inputs.size()) inputs_.resize(row.inputs.size());
  for (size_t i = 0; i < row.inputs.size(); ++i) {
    inputs_[i].sum += sign * row.inputs[i].sum;
    inputs_[i].sum_sq += sign * row.inputs[i].sum_sq;
    inputs_[i].count += static_cast<int64_t>(sign) * row.inputs[i].count;
  }
  if (outputs_.size() < row.outputs.size()) outputs_.resize(row.outputs.size());
  for (size_t i = 0; i < row.outputs.size(); ++i) {
    const auto& o = row.outputs[i];
    auto& agg = outputs_[i];
    if (o.predicted >= 0) {
      agg.classifier = true;
      const int64_t classes = std::max(o.classes, o.predicted + 1);
      if (static_cast<int64_t>(agg.class_counts.size()) < classes) agg.class_counts.resize(classes, 0.0);
      agg.class_counts[o.predicted] += sign;
      const int bin = std::clamp(static_cast<int>(o.confidence * kConfidenceBins), 0, kConfidenceBins - 1);
      agg.confidence_bins[bin] += sign;
      agg.confidence_sum += sign * o.confidence;
    } else {
      agg.value_sum += sign * o.value;
      agg.value_sum_sq += sign * o.value * o.value;
      if (capacity_ == 0) agg.values.push_back(o.value);
    }
  }
}

std::vector<double> StatsWindow::values_of(size_t output) const {
  if (capacity_ == 0) return outputs_[output].values;
  std::vector<double> values;
  for (const auto& row : kept_)
    if (output < row.outputs.size() && row.outputs[output].predicted < 0) values.push_back(row.outputs[output].value);
  return values;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double at = std::clamp(p, 0.0, 100.0) / 100 * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(at);
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (at - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

namespace {

// The regressor part of an output's summary: quantiles, and the share of the
// values in each bin between `edges` (the baseline's deciles, else the values' own).
void summarize_values(std::vector<double> values, const json& baseline_output, json& o) {
  std::sort(values.begin(), values.end());
  json quantiles = json::object();
  for (const int p : kQuantiles) quantiles["p" + std::to_string(p)] = percentile(values, p);
  o["quantiles"] = quantiles;
  std::vector<double> edges;
  if (baseline_output.is_object() && baseline_output.contains("value_bins"))
    edges = doubles(baseline_output["value_bins"].value("edges", json()));
  if (edges.empty())
    for (int k = 1; k < kValueBins; ++k) edges.push_back(percentile(values, 100.0 * k / kValueBins));
  // Bin k holds the values in (edges[k-1], edges[k]]: a value equal to an edge counts below it.
  std::vector<double> counts(edges.size() + 1, 0.0);
  for (const double v : values) counts[std::lower_bound(edges.begin(), edges.end(), v) - edges.begin()] += 1;
  o["value_bins"] = {{"edges", edges}, {"distribution", normalized(counts)}};
}

}  // namespace

json StatsWindow::to_json(const std::vector<std::string>& input_names, const std::vector<std::string>& output_names,
                          const json& baseline) const {
  json inputs = json::array(), outputs = json::array();
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const auto& in = inputs_[i];
    const double n = std::max<double>(1, static_cast<double>(in.count));
    const double mean = in.sum / n;
    inputs.push_back({{"name", name_at(input_names, i, "input")},
                      {"mean", mean},
                      {"std", std::sqrt(std::max(0.0, in.sum_sq / n - mean * mean))}});
  }
  const double rows = std::max(1.0, count_);
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const auto& agg = outputs_[i];
    json o = {{"name", name_at(output_names, i, "output")}};
    if (agg.classifier) {
      o["kind"] = "classifier";
      o["classes"] = agg.class_counts.size();
      o["class_counts"] = agg.class_counts;
      o["class_distribution"] = normalized(agg.class_counts);
      o["mean_confidence"] = agg.confidence_sum / rows;
      o["confidence_histogram"] = normalized(agg.confidence_bins);
    } else {
      const double mean = agg.value_sum / rows;
      o["kind"] = "regressor";
      o["mean"] = mean;
      o["std"] = std::sqrt(std::max(0.0, agg.value_sum_sq / rows - mean * mean));
      const json outputs = baseline.is_object() ? baseline.value("outputs", json::array()) : json::array();
      summarize_values(values_of(i), outputs.is_array() && i < outputs.size() ? outputs[i] : json(), o);
    }
    outputs.push_back(o);
  }
  return {{"rows", static_cast<int64_t>(count_)}, {"inputs", inputs}, {"outputs", outputs}};
}

double population_stability_index(const std::vector<double>& expected, const std::vector<double>& actual) {
  // Empty bins get a small floor so that a class never seen on one side
  // weighs heavily but finitely.
  constexpr double kFloor = 1e-4;
  const size_t n = std::max(expected.size(), actual.size());
  double psi = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = std::max(kFloor, i < expected.size() ? expected[i] : 0.0);
    const double a = std::max(kFloor, i < actual.size() ? actual[i] : 0.0);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

DriftReport compare_to_baseline(const json& baseline, const json& current, const Thresholds& thresholds) {
  DriftReport report;
  report.thresholds = thresholds;
  report.baseline = baseline;
  report.current = current;
  report.rows = current.value("rows", int64_t{0});
  const json& base_outputs = baseline["outputs"];
  const json& base_inputs = baseline["inputs"];
  if (!base_outputs.is_array() || !base_inputs.is_array())
    fail("baseline: expected \"inputs\" and \"outputs\" lists (a baseline.json that `mlopt publish` writes)");
  const json& outputs = current["outputs"];
  const json& inputs = current["inputs"];
  for (size_t i = 0; i < base_outputs.size() && i < outputs.size(); ++i) {
    const json& b = base_outputs[i];
    const json& c = outputs[i];
    const std::string subject = b.value("name", "output" + std::to_string(i));
    if (b.value("kind", "") == "classifier" && c.value("kind", "") == "classifier") {
      DriftFigure psi{subject, "class_psi",
                      population_stability_index(doubles(b["class_distribution"]), doubles(c["class_distribution"])),
                      thresholds.max_psi};
      psi.drift = psi.value > psi.threshold;
      report.figures.push_back(psi);
      DriftFigure conf{subject, "confidence_shift",
                       c.value("mean_confidence", 0.0) - b.value("mean_confidence", 0.0),
                       thresholds.max_confidence_shift};
      conf.drift = std::abs(conf.value) > conf.threshold;
      report.figures.push_back(conf);
    } else if (b.value("kind", "") == "regressor" && c.value("kind", "") == "regressor") {
      const double sd = b.value("std", 0.0);
      DriftFigure shift{subject, "output_shift", (c.value("mean", 0.0) - b.value("mean", 0.0)) / (sd > 0 ? sd : 1.0),
                        thresholds.max_output_shift};
      shift.drift = std::abs(shift.value) > shift.threshold;
      report.figures.push_back(shift);
      // The value distribution over the baseline's decile bins (a baseline
      // without them, from an older mlopt, has no such figure).
      if (b.contains("value_bins") && c.contains("value_bins")) {
        DriftFigure psi{subject, "value_psi",
                        population_stability_index(doubles(b["value_bins"].value("distribution", json())),
                                                   doubles(c["value_bins"].value("distribution", json()))),
                        thresholds.max_psi};
        psi.drift = psi.value > psi.threshold;
        report.figures.push_back(psi);
      }
    }
  }
  for (size_t i = 0; i < base_inputs.size() && i < inputs.size(); ++i) {
    const json& b = base_inputs[i];
    const double sd = b.value("std", 0.0);
    DriftFigure shift{"input " + b.value("name", "input" + std::to_string(i)), "input_shift",
                      (inputs[i].value("mean", 0.0) - b.value("mean", 0.0)) / (sd > 0 ? sd : 1.0),
                      thresholds.max_input_shift};
    shift.drift = std::abs(shift.value) > shift.threshold;
    report.figures.push_back(shift);
  }
  const bool any = std::any_of(report.figures.begin(), report.figures.end(), [](const auto& f) { return f.drift; });
  report.verdict = report.rows < std::max<int64_t>(1, thresholds.min_rows) ? "too few rows" : any ? "drift" : "no drift";
  return report;
}

namespace {
std::string describe(const DriftFigure& f) {
  if (f.kind == "class_psi") return "predicted-class PSI";
  if (f.kind == "confidence_shift") return "mean confidence shift";
  if (f.kind == "output_shift") return "mean shift (baseline std)";
  if (f.kind == "value_psi") return "value PSI (baseline decile bins)";
  return "mean shift (baseline std)";
}
std::string limit(const DriftFigure& f) {
  // No '|' here: the limit is a cell of a Markdown table.
  return f.kind == "class_psi" || f.kind == "value_psi" ? fmt::format("<= {:g}", f.threshold) : fmt::format("within ±{:g}", f.threshold);
}
// The label of value bin k between the baseline's edges.
std::string bin_label(const std::vector<double>& edges, size_t k) {
  if (edges.empty()) return "all";
  if (k == 0) return fmt::format("<= {:.3g}", edges.front());
  if (k >= edges.size()) return fmt::format("> {:.3g}", edges.back());
  return fmt::format("{:.3g} to {:.3g}", edges[k - 1], edges[k]);
}

bool both(const json& b, const json& c, const char* kind) {
  return b.value("kind", "") == kind && c.value("kind", "") == kind;
}

}  // namespace

json DriftReport::to_json() const {
  json figures_json = json::array();
  for (const auto& f : figures)
    figures_json.push_back({{"subject", f.subject}, {"kind", f.kind}, {"value", f.value}, {"threshold", f.threshold},
                            {"drift", f.drift}});
  return {{"rows", rows},           {"verdict", verdict},   {"drift", drift()}, {"thresholds", thresholds.to_json()},
          {"figures", figures_json}, {"current", current}};
}

std::string DriftReport::to_markdown(const std::string& title) const {
  std::string md = fmt::format("# {}\n\n**Verdict: {}** ({} rows)\n\n", title, verdict, rows);
  md += "| Subject | Figure | Value | Threshold | Drift |\n|---|---|---:|---|---|\n";
  for (const auto& f : figures)
    md += fmt::format("| {} | {} | {:.4f} | {} | {} |\n", f.subject, describe(f), f.value, limit(f),
                      f.drift ? "**yes**" : "no");
  const json& bo = baseline["outputs"];
  const json& co = current["outputs"];
  for (size_t i = 0; i < bo.size() && i < co.size(); ++i) {
    if (bo[i].value("kind", "") != "classifier" || co[i].value("kind", "") != "classifier") continue;
    const auto b = doubles(bo[i]["class_distribution"]), c = doubles(co[i]["class_distribution"]);
    md += fmt::format("\n## {}: predicted classes\n\n| Class | Baseline | Now |\n|---:|---:|---:|\n",
                      bo[i].value("name", "output"));
    for (size_t k = 0; k < std::max(b.size(), c.size()); ++k)
      md += fmt::format("| {} | {:.3f} | {:.3f} |\n", k, k < b.size() ? b[k] : 0.0, k < c.size() ? c[k] : 0.0);
    md += fmt::format("\nMean confidence: baseline {:.3f}, now {:.3f}\n", bo[i].value("mean_confidence", 0.0),
                      co[i].value("mean_confidence", 0.0));
  }
  for (size_t i = 0; i < bo.size() && i < co.size(); ++i) {
    if (!both(bo[i], co[i], "regressor") || !bo[i].contains("quantiles") || !co[i].contains("quantiles")) continue;
    const std::string name = bo[i].value("name", "output");
    md += fmt::format("\n## {}: values\n\n| Quantile | Baseline | Now |\n|---|---:|---:|\n", name);
    for (const int p : kQuantiles) {
      const std::string key = "p" + std::to_string(p);
      md += fmt::format("| {} | {:.4g} | {:.4g} |\n", key, bo[i]["quantiles"].value(key, 0.0),
                        co[i]["quantiles"].value(key, 0.0));
    }
    if (!bo[i].contains("value_bins") || !co[i].contains("value_bins")) continue;
    const auto edges = doubles(bo[i]["value_bins"].value("edges", json()));
    const auto b = doubles(bo[i]["value_bins"].value("distribution", json()));
    const auto c = doubles(co[i]["value_bins"].value("distribution", json()));
    md += fmt::format("\n## {}: values in the baseline's decile bins\n\n| Bin | Baseline | Now |\n|---|---:|---:|\n", name);
    for (size_t k = 0; k < b.size() && k < c.size(); ++k)
      md += fmt::format("| {} | {:.3f} | {:.3f} |\n", bin_label(edges, k), b[k], c[k]);
  }
  return md;
}

std::string DriftReport::to_html(const std::string& title) const {
  namespace svg = pipeline::svg;
  std::string html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + svg::escape(title) +
                     "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                     "td,th{border:1px solid #ccc;padding:4px 8px}.drift{color:#b00;font-weight:bold}</style></head><body>";
  html += fmt::format("<h1>{}</h1><p class=\"{}\">Verdict: {} ({} rows)</p>", svg::escape(title),
                      drift() ? "drift" : "", verdict, rows);
  html += "<table><tr><th>Subject</th><th>Figure</th><th>Value</th><th>Threshold</th><th>Drift</th></tr>";
  for (const auto& f : figures)
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.4f}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                        svg::escape(f.subject), describe(f), f.value, svg::escape(limit(f)), f.drift ? "drift" : "",
                        f.drift ? "yes" : "no");
  html += "</table>";
  const json& bo = baseline["outputs"];
  const json& co = current["outputs"];
  for (size_t i = 0; i < bo.size() && i < co.size(); ++i) {
    if (bo[i].value("kind", "") != "classifier" || co[i].value("kind", "") != "classifier") continue;
    const auto b = doubles(bo[i]["class_distribution"]), c = doubles(co[i]["class_distribution"]);
    std::vector<svg::Bar> bars;
    for (size_t k = 0; k < std::max(b.size(), c.size()); ++k) {
      bars.push_back({fmt::format("class {} baseline", k), 100 * (k < b.size() ? b[k] : 0.0)});
      bars.push_back({fmt::format("class {} now", k), 100 * (k < c.size() ? c[k] : 0.0)});
    }
    html += svg::bar_chart(bo[i].value("name", "output") + ": predicted classes, baseline vs now", bars, "%");
    const auto hb = doubles(bo[i]["confidence_histogram"]), hc = doubles(co[i]["confidence_histogram"]);
    std::vector<svg::Bar> conf;
    for (size_t k = 0; k < hb.size() && k < hc.size(); ++k) {
      const std::string range = fmt::format("{:.1f}-{:.1f}", double(k) / hb.size(), double(k + 1) / hb.size());
      conf.push_back({"confidence " + range + " baseline", 100 * hb[k]});
      conf.push_back({"confidence " + range + " now", 100 * hc[k]});
    }
    html += svg::bar_chart(bo[i].value("name", "output") + ": confidence, baseline vs now", conf, "%");
  }
  for (size_t i = 0; i < bo.size() && i < co.size(); ++i) {
    if (!both(bo[i], co[i], "regressor") || !bo[i].contains("value_bins") || !co[i].contains("value_bins")) continue;
    const auto edges = doubles(bo[i]["value_bins"].value("edges", json()));
    const auto b = doubles(bo[i]["value_bins"].value("distribution", json()));
    const auto c = doubles(co[i]["value_bins"].value("distribution", json()));
    std::vector<svg::Bar> bars;
    for (size_t k = 0; k < b.size() && k < c.size(); ++k) {
      bars.push_back({"value " + bin_label(edges, k) + " baseline", 100 * b[k]});
      bars.push_back({"value " + bin_label(edges, k) + " now", 100 * c[k]});
    }
    html += svg::bar_chart(bo[i].value("name", "output") + ": values in the baseline's decile bins, baseline vs now",
                           bars, "%");
  }
  return html + "</body></html>\n";
}

}  // namespace mlopt::registry
