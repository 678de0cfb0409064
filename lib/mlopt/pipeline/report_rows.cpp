#include <fmt/format.h>

#include "mlopt/pipeline/gates.h"
#include "mlopt/pipeline/reports.h"

namespace mlopt::pipeline {

std::string human_size(double bytes) {
  if (bytes >= 1e6) return fmt::format("{:.2f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} KB", bytes / 1e3);
  return fmt::format("{:.0f} B", bytes);
}

std::vector<ReportRow> report_rows(const ReportInputs& in) {
  const auto base_size = metric_value(in.baseline_metrics, "size");
  const auto base_p50 = metric_value(in.baseline_metrics, "latency_ms.p50");
  const auto base_accuracy = metric_value(in.baseline_metrics, "accuracy");
  std::vector<ReportRow> rows;
  for (const auto& a : in.artifacts) {
    ReportRow row;
    row.path = a.value("path", "");
    row.step = a.value("step", "");
    row.format = a.value("format", "");
    row.size = a.value("size", 0.0);
    const auto& m = a["metrics"];
    row.p50 = metric_value(m, "latency_ms.p50");
    row.accuracy = metric_value(m, "accuracy");
    if (m.contains("latency_ms")) row.latency = m["latency_ms"];
    if (base_size && *base_size > 0) row.size_ratio = row.size / *base_size;
    if (row.p50 && base_p50 && *row.p50 > 0) row.speedup = *base_p50 / *row.p50;
    if (row.accuracy && base_accuracy) row.accuracy_delta = *row.accuracy - *base_accuracy;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace mlopt::pipeline
