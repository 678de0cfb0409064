#pragma once
// The step cache under `<out>/.cache/`: a step's result is keyed by the
// content hash of every file it reads, its resolved options, the seed and the
// mlopt, LibTorch and ONNX versions. A key missing any of these would serve
// stale results (a new LibTorch changes what a step writes). Artifacts are kept
// by content hash, so a hit restores them byte for byte.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mlopt::pipeline {

struct Versions {
  std::string mlopt, libtorch, onnx;
  static Versions current();
  nlohmann::json to_json() const;
};

struct CacheKeyInputs {
  std::string step_type;
  nlohmann::json options;        // resolved options; file paths are replaced by their content hash
  std::vector<std::string> save; // extra formats
  uint64_t seed = 0;
  Versions versions;
};

// Replaces every string in `options` that names an existing file by
// "sha256:<hex>" (except `output_path`, named by its file name), so that the
// key follows the content, not the location.
nlohmann::json options_for_key(const nlohmann::json& options, const std::string& output_path);

std::string cache_key(const CacheKeyInputs& inputs);

struct CachedArtifact {
  std::string name;    // relative to the output folder
  std::string sha256;
  int64_t size = 0;
};

struct CacheRecord {
  nlohmann::json result;   // the step's result JSON
  std::vector<CachedArtifact> artifacts;
  nlohmann::json extra;    // signatures and the like, computed once
  double seconds = 0;      // how long the step took when it ran
};

class StepCache {
 public:
  explicit StepCache(std::string out_dir);
  // The record, with its artifacts restored into the output folder; nullopt on a miss
  // (including a record whose blobs are gone).
  std::optional<CacheRecord> lookup(const std::string& key) const;
  // Stores the record and copies of its artifacts.
  void store(const std::string& key, const CacheRecord& record) const;

 private:
  std::string dir_, out_dir_;
};

}  // namespace mlopt::pipeline
