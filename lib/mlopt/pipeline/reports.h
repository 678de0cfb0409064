#pragma once
// What a run leaves beside its artifacts: manifest.json (machine-readable),
// report.md (for a CI log or a pull request) and report.html (the same, with
// inline SVG charts, one self-contained file).
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "mlopt/pipeline/plan.h"
#include "mlopt/pipeline/run.h"

namespace mlopt::pipeline {

struct ReportInputs {
  const Plan& plan;
  const RunResult& result;
  const nlohmann::json& artifacts;  // manifest form, with metrics
  nlohmann::json baseline_metrics;
  const std::map<std::string, nlohmann::json>& step_results;
};

// The resolved config as JSON: scalars typed as YAML would read them.
nlohmann::json yaml_to_json(const YAML::Node& node);

void write_manifest(const ReportInputs& inputs);
void write_markdown_report(const ReportInputs& inputs);
void write_html_report(const ReportInputs& inputs);

// One table row per artifact against the baseline (shared by both reports).
struct ReportRow {
  std::string path, step, format;
  double size = 0;
  std::optional<double> p50, accuracy;
  std::optional<double> size_ratio, speedup, accuracy_delta;
  nlohmann::json latency;  // the latency_ms object (percentiles) when profiled
  // Timed through the built-in ONNX evaluator: a correctness path, not a
  // runtime; its latency is labelled and not compared with the baseline's.
  bool reference_path = false;
  bool latency_noisy = false;
  // An optimized artifact slower than the baseline (speedup below 1): flagged loudly.
  bool slower = false;
};
std::vector<ReportRow> report_rows(const ReportInputs& inputs);

// The loud lines above a report's tables: artifacts slower than the baseline
// (with the opt-in gate that fails on them), and what reference-path figures are.
std::vector<std::string> report_warnings(const std::vector<ReportRow>& rows, const std::string& baseline);

// PASSED | FAILED | INCONCLUSIVE | INCOMPLETE
std::string status_word(const RunResult& result);

std::string human_size(double bytes);

}  // namespace mlopt::pipeline
