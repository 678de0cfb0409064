#include <filesystem>
#include <fmt/format.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/pipeline/gates.h"
#include "mlopt/pipeline/reports.h"
#include "mlopt/pipeline/svg_chart.h"

namespace fs = std::filesystem;

namespace mlopt::pipeline {

namespace {
constexpr const char* kStyle = R"(<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:60em}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.pass{color:#17803d}.fail{color:#c62828;font-weight:bold}
svg{display:block;margin:1em 0;font-size:12px}svg .title{font-weight:bold;font-size:14px}
svg .bar{fill:#4a78c2}svg .box{fill:#9cc0f0;stroke:#2d5aa0}svg .whisker{stroke:#2d5aa0}svg .p99{stroke:#c62828;stroke-width:2}
svg .missing{fill:#999;font-style:italic}
</style>)";

std::string cell(const std::optional<double>& v, const char* format) {
  return v ? fmt::format(fmt::runtime(format), *v) : "–";
}

std::optional<double> percentile(const nlohmann::json& latency, const std::string& key) {
  return metric_value(latency, key);
}
}  // namespace

void write_html_report(const ReportInputs& in) {
  using svg::escape;
  const RunResult& r = in.result;
  const auto rows = report_rows(in);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mlopt run: " + escape(r.name) +
                  "</title>" + kStyle + "</head><body>\n";
  h += fmt::format("<h1>mlopt run: {}</h1>\n<p class=\"{}\">{}</p><p>Baseline: <code>{}</code></p>\n", escape(r.name),
                   r.passed() ? "pass" : "fail", status_word(r), escape(r.baseline));
  for (const auto& warning : report_warnings(rows, r.baseline))
    h += "<p class=\"fail\"><strong>&#9888; " + escape(warning) + "</strong></p>\n";
  if (!r.error.empty())
    h += fmt::format("<p class=\"fail\">{}{}</p><p>Only the artifacts below were written by this run.</p>\n",
                     r.failed_step.empty() ? "" : "step <code>" + escape(r.failed_step) + "</code> stopped the run: ",
                     escape(r.error));
  h += "<h2>Artifacts</h2>\n<table><tr><th>artifact</th><th>step</th><th>format</th><th>size</th><th>size vs baseline</th>"
       "<th>p50 latency (ms)</th><th>speedup</th><th>accuracy</th><th>Δ accuracy</th></tr>\n";
  for (const auto& row : rows)
    h += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     escape(row.path), escape(row.step), row.format, human_size(row.size), cell(row.size_ratio, "{:.2f}x"),
                     cell(row.p50, "{:.3f}") + (row.reference_path && row.p50 ? " (reference evaluator)"
                                                : row.latency_noisy           ? " (noisy)"
                                                                              : ""),
                     row.slower ? fmt::format("<strong class=\"fail\">{:.2f}x &#9888; SLOWER</strong>", *row.speedup)
                                : cell(row.speedup, "{:.2f}x"),
                     cell(row.accuracy, "{:.4f}"),
                     cell(row.accuracy_delta, "{:+.4f}"));
  h += "</table>\n<h2>Gates</h2>\n<ul>\n";
  if (r.gates.empty()) h += "<li>No gates.</li>\n";
  for (const auto& gate : r.gates)
    h += fmt::format("<li class=\"{}\">{} <code>{}</code> — {}</li>\n", gate.passed ? "pass" : "fail",
                     gate.passed ? "pass" : gate.inconclusive ? "INCONCLUSIVE" : "FAIL", escape(gate.name),
                     escape(gate.figure));
  h += "</ul>\n<h2>Charts</h2>\n";
  std::vector<svg::Bar> size, latency, accuracy;
  std::vector<svg::Distribution> distributions;
  for (const auto& row : rows) {
    size.push_back({row.path, row.size / 1e3});
    latency.push_back({row.path, row.p50});
    accuracy.push_back({row.path, row.accuracy});
    svg::Distribution d{row.path};
    if (!row.latency.is_null()) {
      d.min = percentile(row.latency, "min");
      d.p50 = percentile(row.latency, "p50");
      d.p90 = percentile(row.latency, "p90");
      d.p99 = percentile(row.latency, "p99");
      d.max = percentile(row.latency, "max");
    }
    distributions.push_back(d);
  }
  h += svg::bar_chart("File size", size, "KB");
  h += svg::bar_chart("p50 latency", latency, "ms");
  h += svg::bar_chart("Accuracy", accuracy, "");
  h += svg::distribution_chart("Latency distribution (whiskers min..max, box p50..p90, red tick p99)", distributions, "ms");
  h += "<h2>Steps</h2>\n<table><tr><th>step</th><th>type</th><th>status</th><th>time (s)</th></tr>\n";
  for (const auto& step : r.steps)
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td></tr>\n", escape(step.name), escape(step.type),
                     step.status, step.status == "cached" ? step.original_seconds : step.seconds);
  h += "</table>\n</body></html>\n";
  write_file_atomically((fs::path(in.plan.out_dir) / "report.html").string(), h);
}

}  // namespace mlopt::pipeline
