#pragma once
// `mlopt publish RELEASE_DIR REPO` and `mlopt run PIPELINE --publish REPO`: a
// release folder (`mlopt run --out`) becomes a new immutable version
// REPO/<model>/<version>/ with its files, version.json (sha256 of every file,
// versions, config, gates, metrics, who/when) and baseline.json (baseline.h).
// The version is assembled in a staging folder inside REPO/<model>/ and
// renamed into place without replacing anything: a publish that fails or is
// killed leaves no version, and concurrent publishes get different versions.
// No LibTorch here.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "mlopt/core/dataset.h"
#include "mlopt/core/options.h"

namespace mlopt {

struct PublishOptions {
  std::string release;   // a `mlopt run --out` folder
  std::string repo;
  std::string version;   // default: the next integer
  std::string model;     // default: the pipeline's `publish: model:` or its name
  std::string artifact;  // default: `publish: artifact:`, else the last .pt (as serve)
  std::string data;      // default: the pipeline's `publish: data:` set (or its only one)
  DataOptions data_options;
  bool force = false;

  template <class V>
  void visit(V& v) {
    v.positional("release", release, "Release folder written by `mlopt run --out`");
    v.positional("repo", repo, "Model repository folder (created if missing): REPO/<model>/<version>/");
    v.option("version", version, "Version name, e.g. 1.4.0 (default: the next integer)");
    v.option("model", model, "Model name in the repository (default: publish.model, else the pipeline's name)");
    v.option("artifact", artifact, "Artifact served by the version: file or step name (default: the last .pt)");
    v.option("data", data, "Data set whose validation split is the baseline (default: the pipeline's)");
    data_options.visit(v);
    v.flag("force", force, "Publish a release whose run failed a gate");
  }
};

struct PublishResult {
  std::string repo, model, version, dir, artifact;
  int64_t files = 0, bytes = 0;
  int64_t baseline_rows = 0;
  nlohmann::json baseline;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

PublishResult publish(const PublishOptions& options, const GlobalOptions& globals);

namespace registry {

// What publish needs, however it was asked for (CLI or `run --publish`).
struct PublishRequest {
  std::string release, repo, version, model, artifact;
  std::string data;
  DataOptions data_options;
  nlohmann::json monitor;  // `publish: monitor:` thresholds
  bool force = false;
};

PublishResult publish_release(const PublishRequest& request);

// The pipeline's `publish:` section (model, artifact, data, monitor) checked;
// `config` is the pipeline as JSON (the manifest's "config").
struct PublishSection {
  std::string model, artifact, data;
  nlohmann::json monitor;
};
PublishSection publish_section(const nlohmann::json& config, const std::string& what);

// A data set entry of the pipeline (`data: NAME: {path, reshape, scale, ...}`) as DataOptions.
DataOptions data_options_of(const nlohmann::json& entry, const std::string& what);

// The data set the baseline is measured on: `publish: data:`, else the only
// (or first) data set. Returns its name; "" when the pipeline has none.
std::string baseline_data_set(const nlohmann::json& config, const PublishSection& section);

}  // namespace registry
}  // namespace mlopt
