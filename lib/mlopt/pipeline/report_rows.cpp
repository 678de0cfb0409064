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
    row.reference_path = m.value("reference_path", false);
    row.latency_noisy = m.value("latency_noisy", false);
    const bool base_reference = in.baseline_metrics.value("reference_path", false);
    if (row.p50 && base_p50 && *row.p50 > 0 && !row.reference_path && !base_reference) {
      row.speedup = *base_p50 / *row.p50;
      row.slower = row.step != in.result.baseline && *row.speedup < kSlowerThanBaseline;
    }
    if (row.accuracy && base_accuracy) row.accuracy_delta = *row.accuracy - *base_accuracy;
    rows.push_back(row);
  }
  return rows;
}

std::vector<std::string> report_warnings(const std::vector<ReportRow>& rows, const std::string& baseline) {
  std::vector<std::string> out;
  for (const auto& row : rows)
    if (row.slower)
      out.push_back(fmt::format("SLOWER THAN THE BASELINE: {} is {:.2f}x the speed of {} (p50 {:.3f} ms){}; add "
                                "`{{artifact: {}, not_slower_than_baseline: true}}` to the gates to fail the run on it",
                                row.path, *row.speedup, baseline, *row.p50,
                                row.latency_noisy ? ", a noisy figure" : "", row.step));
  for (const auto& row : rows)
    if (row.reference_path && row.p50) {
      out.push_back("latencies marked (reference evaluator) are timed through mlopt's built-in ONNX evaluator, a "
                    "correctness path, not a runtime: an ONNX runtime is faster, so they are not compared with "
                    "the baseline");
      break;
    }
  return out;
}

std::string status_word(const RunResult& r) {
  if (r.stopped == "incomplete") return "INCOMPLETE";
  if (!r.stopped.empty()) return "FAILED";
  const std::string status = r.status();
  return status == "passed" ? "PASSED" : status == "inconclusive" ? "INCONCLUSIVE" : "FAILED";
}

}  // namespace mlopt::pipeline
