#include <filesystem>
#include <fmt/format.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/pipeline/reports.h"

namespace fs = std::filesystem;

namespace mlopt::pipeline {

namespace {
std::string or_dash(const std::optional<double>& v, const char* format) {
  return v ? fmt::format(fmt::runtime(format), *v) : "–";
}
}  // namespace

void write_markdown_report(const ReportInputs& in) {
  const RunResult& r = in.result;
  std::string md = fmt::format("# mlopt run: {}\n\n", r.name);
  if (!r.error.empty())
    md += fmt::format("**{}** — {}{}\n\nOnly the artifacts below were written by this run.\n\n",
                      r.stopped == "incomplete" ? "INCOMPLETE" : "FAILED",
                      r.failed_step.empty() ? "" : fmt::format("step `{}` stopped the run: ", r.failed_step), r.error);
  else
    md += fmt::format("**{}** — {} artifact(s), baseline `{}`, {} gate(s) failed{}.\n\n", status_word(r),
                      r.artifacts.size(), r.baseline, r.failed_gates().size(),
                      r.inconclusive_gates().empty() ? ""
                                                     : fmt::format(", {} inconclusive (noisy latency)",
                                                                   r.inconclusive_gates().size()));

  const auto rows = report_rows(in);
  for (const auto& warning : report_warnings(rows, r.baseline)) md += "> ⚠️ **" + warning + "**\n\n";
  md += "## Artifacts\n\n";
  md += "| artifact | step | format | size | size vs baseline | p50 latency (ms) | speedup | accuracy | Δ accuracy |\n";
  md += "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : rows)
    md += fmt::format("| `{}` | {} | {} | {} | {} | {}{} | {} | {} | {} |\n", row.path, row.step, row.format,
                      human_size(row.size), or_dash(row.size_ratio, "{:.2f}x"), or_dash(row.p50, "{:.3f}"),
                      row.reference_path && row.p50 ? " (reference evaluator)" : row.latency_noisy ? " (noisy)" : "",
                      row.slower ? fmt::format("**{:.2f}x ⚠️ SLOWER**", *row.speedup) : or_dash(row.speedup, "{:.2f}x"),
                      or_dash(row.accuracy, "{:.4f}"), or_dash(row.accuracy_delta, "{:+.4f}"));
  md += "\n## Gates\n\n";
  if (r.gates.empty()) md += "No gates.\n";
  for (const auto& gate : r.gates)
    md += fmt::format("- {} **{}** `{}` — {}\n", gate.passed ? "✅" : gate.inconclusive ? "⚠️" : "❌",
                      gate.passed ? "pass" : gate.inconclusive ? "INCONCLUSIVE" : "FAIL", gate.name, gate.figure);
  md += "\n## Steps\n\n| step | type | status | time (s) |\n|---|---|---|---:|\n";
  for (const auto& step : r.steps)
    md += fmt::format("| {} | {} | {} | {:.2f} |\n", step.name, step.type, step.status,
                      step.status == "cached" ? step.original_seconds : step.seconds);
  md += "\nCached steps show the time they took when they last ran.\n";
  write_file_atomically((fs::path(in.plan.out_dir) / "report.md").string(), md);
}

}  // namespace mlopt::pipeline
