#include "mlopt/pipeline/step_cache.h"

#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/hash.h"
#include "mlopt/core/version.h"

namespace fs = std::filesystem;

namespace mlopt::pipeline {

Versions Versions::current() { return {mlopt_version(), libtorch_version(), onnx_version()}; }

nlohmann::json Versions::to_json() const { return {{"mlopt", mlopt}, {"libtorch", libtorch}, {"onnx", onnx}}; }

nlohmann::json options_for_key(const nlohmann::json& options, const std::string& output_path) {
  if (options.is_string()) {
    const std::string value = options.get<std::string>();
    if (value.empty()) return options;
    if (value == output_path) return "output:" + fs::path(value).filename().string();
    std::error_code ec;
    if (fs::is_regular_file(value, ec)) return "sha256:" + sha256_file(value);
    return options;
  }
  if (options.is_array() || options.is_object()) {
    nlohmann::json copy = options;
    for (auto& item : copy) item = options_for_key(item, output_path);
    return copy;
  }
  return options;
}

std::string cache_key(const CacheKeyInputs& inputs) {
  nlohmann::json key = {{"step_type", inputs.step_type}, {"options", inputs.options}, {"save", inputs.save},
                        {"seed", inputs.seed},           {"versions", inputs.versions.to_json()},
                        {"cache_format", 1}};
  return sha256_hex(key.dump());
}

StepCache::StepCache(std::string out_dir) : dir_((fs::path(out_dir) / ".cache").string()), out_dir_(std::move(out_dir)) {}

namespace {
std::string blob_path(const std::string& dir, const std::string& sha) { return (fs::path(dir) / "blobs" / sha).string(); }

// True when `path` already holds the content (checked by size first: cheap).
bool holds(const std::string& path, const std::string& sha256, int64_t size) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || static_cast<int64_t>(fs::file_size(path, ec)) != size) return false;
  return sha256_file(path) == sha256;
}

// Copies `from` to `to` through a temporary file whose content is checked
// against `sha256` before it is renamed into place; false (and nothing
// written) when the bytes differ: a truncated or overwritten blob, or an
// artifact that changed after it was hashed.
bool copy_verified(const std::string& from, const std::string& to, const std::string& sha256) {
  ensure_parent_dir(to);
  bool matches = false;
  write_atomically(to, [&](const std::string& tmp) {
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
    matches = sha256_file(tmp) == sha256;
    if (!matches) throw std::runtime_error("content differs");
  });
  return matches;
}

bool copy_verified_or_skip(const std::string& from, const std::string& to, const std::string& sha256) {
  try {
    return copy_verified(from, to, sha256);
  } catch (const std::exception&) {
    return false;
  }
}

CacheRecord parse_record(const nlohmann::json& j) {
  CacheRecord record;
  record.result = j.value("result", nlohmann::json());
  record.extra = j.value("extra", nlohmann::json::object());
  record.seconds = j.value("seconds", 0.0);
  for (const auto& a : j.value("artifacts", nlohmann::json::array())) {
    CachedArtifact artifact{a.at("name").get<std::string>(), a.at("sha256").get<std::string>(),
                            a.at("size").get<int64_t>()};
    // A name from a damaged record must not point outside the output folder.
    if (artifact.name.empty() || artifact.name.find('/') != std::string::npos || artifact.name[0] == '.' ||
        artifact.sha256.size() != 64 || artifact.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw std::runtime_error("bad artifact entry");
    record.artifacts.push_back(artifact);
  }
  return record;
}
}  // namespace

std::optional<CacheRecord> StepCache::lookup(const std::string& key) const {
  const std::string record_path = (fs::path(dir_) / (key + ".json")).string();
  if (!file_exists(record_path)) return std::nullopt;
  CacheRecord record;
  try {
    record = parse_record(nlohmann::json::parse(read_file(record_path)));
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged record is a miss, recomputed and replaced
  }
  for (const auto& artifact : record.artifacts) {
    const std::string target = (fs::path(out_dir_) / artifact.name).string();
    if (holds(target, artifact.sha256, artifact.size)) continue;
    const std::string blob = blob_path(dir_, artifact.sha256);
    if (!file_exists(blob)) return std::nullopt;
    if (!copy_verified_or_skip(blob, target, artifact.sha256)) {
      std::error_code ec;
      fs::remove(blob, ec);  // a bad blob is dropped; the step runs again and stores a good one
      return std::nullopt;
    }
  }
  return record;
}

void StepCache::store(const std::string& key, const CacheRecord& record) const {
  nlohmann::json artifacts = nlohmann::json::array();
  for (const auto& artifact : record.artifacts) {
    // Blobs are named by their content, checked as they are written: a blob
    // never holds bytes other than its name says.
    const std::string blob = blob_path(dir_, artifact.sha256);
    if (!holds(blob, artifact.sha256, artifact.size) &&
        !copy_verified((fs::path(out_dir_) / artifact.name).string(), blob, artifact.sha256))
      fail("the artifact {} changed after it was written; not caching it", artifact.name);
    artifacts.push_back({{"name", artifact.name}, {"sha256", artifact.sha256}, {"size", artifact.size}});
  }
  nlohmann::json j = {{"result", record.result}, {"artifacts", artifacts}, {"extra", record.extra},
                      {"seconds", record.seconds}};
  const std::string record_path = (fs::path(dir_) / (key + ".json")).string();
  ensure_parent_dir(record_path);
  write_file_atomically(record_path, j.dump(1));
}

}  // namespace mlopt::pipeline
