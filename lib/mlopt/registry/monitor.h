#pragma once
// `mlopt monitor VERSION_DIR --data REQUESTS`: scores a batch of requests with
// the version's model and compares them with its baseline (drift.h): a
// verdict, a Markdown/JSON/HTML report, exit 3 on drift. For batch-scoring
// jobs and CI. Torch-free header.
#include <nlohmann/json.hpp>

#include <string>

#include "mlopt/core/options.h"
#include "mlopt/registry/drift.h"

namespace mlopt {

struct MonitorOptions {
  std::string version;  // REPO/<model>/<version> (or a folder with version.json + baseline.json)
  std::string data;     // requests: .npz/.npy/.csv/.jsonl
  std::string report;   // .md, .json or .html
  int batch_size = 64;
  double max_psi = -1, max_confidence_shift = -1, max_input_shift = -1, max_output_shift = -1;  // -1: the model's

  template <class V>
  void visit(V& v) {
    v.positional("version", version, "Version folder of a model repository, REPO/<model>/<version>");
    v.required_option("data", data, "Requests to check: .npz/.npy, .csv(.gz) or .jsonl (KServe v2 requests)");
    v.written_file("report", report, "Write the report here: .md, .json or .html (with charts)");
    v.option("batch-size", batch_size, "Rows per model run");
    v.option("max-psi", max_psi, "Predicted-class PSI above this is drift (default: the model's, else 0.2)");
    v.option("max-confidence-shift", max_confidence_shift,
             "Mean confidence moving more than this is drift (default: the model's, else 0.1)");
    v.option("max-input-shift", max_input_shift,
             "An input mean moving more than this many baseline stds is drift (default: the model's, else 0.25)");
    v.option("max-output-shift", max_output_shift,
             "A regressor output's mean moving more than this many baseline stds is drift (default: the model's, "
             "else 0.5)");
  }
};

struct MonitorResult {
  std::string version_dir, model, version, artifact, data;
  registry::DriftReport drift;
  std::string report;  // the file written, if any

  nlohmann::json to_json() const;
  std::string to_text() const;
};

MonitorResult monitor(const MonitorOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
