#include "mlopt/registry/monitor.h"

#include <torch/script.h>

#include <filesystem>
#include <fmt/format.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/registry/repository.h"
#include "mlopt/registry/requests_file.h"
#include "mlopt/registry/row_stats.h"
#include "mlopt/runtime/runner.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt {
namespace {

void check_options(const MonitorOptions& options) {
  if (options.batch_size < 1) fail_usage("--batch-size expects a positive number, got {}", options.batch_size);
  if (!options.report.empty()) {
    const std::string ext = extension_of(options.report);
    if (ext != ".md" && ext != ".json" && ext != ".html")
      fail_usage("--report {}: expected a .md, .json or .html file", options.report);
  }
}

std::vector<std::string> names_of(const json& list) {
  std::vector<std::string> names;
  for (const auto& item : list) names.push_back(item.value("name", ""));
  return names;
}

}  // namespace

MonitorResult monitor(const MonitorOptions& options, const GlobalOptions&) {
  using namespace registry;
  check_options(options);
  const fs::path dir(options.version);
  const json manifest = read_version_manifest(options.version);
  const json baseline = read_json_file((dir / kBaselineFile).string(), "the baseline that `mlopt publish` writes");
  Thresholds thresholds;
  thresholds.merge(baseline.value("thresholds", json::object()), (dir / kBaselineFile).string() + ": thresholds");
  if (options.max_psi >= 0) thresholds.max_psi = options.max_psi;
  if (options.max_confidence_shift >= 0) thresholds.max_confidence_shift = options.max_confidence_shift;
  if (options.max_input_shift >= 0) thresholds.max_input_shift = options.max_input_shift;
  if (options.max_output_shift >= 0) thresholds.max_output_shift = options.max_output_shift;
  thresholds.min_rows = 1;  // a file is judged whatever its size

  MonitorResult result;
  result.version_dir = options.version;
  result.model = manifest.value("model", dir.parent_path().filename().string());
  result.version = dir.filename().string();
  result.artifact = manifest["artifact"];
  result.data = options.data;
  const auto inputs = read_requests(options.data, request_inputs_of(baseline));
  auto runner = load_runner((dir / result.artifact).string());
  StatsWindow window;
  with_context("scoring " + options.data + " with " + (dir / result.artifact).string(),
               [&] { run_into_window(*runner, inputs, options.batch_size, window); });
  const json current = window.to_json(names_of(baseline["inputs"]), names_of(baseline["outputs"]), baseline);
  result.drift = compare_to_baseline(baseline, current, thresholds);
  if (!options.report.empty()) {
    const std::string title = fmt::format("Drift of {}:{} on {}", result.model, result.version,
                                          fs::path(options.data).filename().string());
    const std::string ext = extension_of(options.report);
    ensure_parent_dir(options.report);
    write_file_atomically(options.report, ext == ".json"   ? result.to_json().dump(2) + "\n"
                                          : ext == ".html" ? result.drift.to_html(title)
                                                           : result.drift.to_markdown(title));
    result.report = options.report;
  }
  return result;
}

json MonitorResult::to_json() const {
  json j = drift.to_json();
  j["model"] = model;
  j["version"] = version;
  j["version_dir"] = version_dir;
  j["artifact"] = artifact;
  j["data"] = data;
  if (!report.empty()) j["report"] = report;
  return j;
}

std::string MonitorResult::to_text() const {
  std::string text = fmt::format("{}:{} on {} ({} rows): {}\n", model, version, data, drift.rows, drift.verdict);
  for (const auto& f : drift.figures)
    text += fmt::format("  {} {:<17} {:>9.4f}  (threshold {:g}){}\n", f.subject, f.kind, f.value, f.threshold,
                        f.drift ? "  DRIFT" : "");
  if (!report.empty()) text += fmt::format("report: {}\n", report);
  return text;
}

}  // namespace mlopt
