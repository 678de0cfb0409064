#include "mlopt/pipeline/step_cache.h"

#include <filesystem>

#include "mlopt/core/atomic_write.h"
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

void copy_atomically(const std::string& from, const std::string& to) {
  ensure_parent_dir(to);
  write_atomically(to, [&](const std::string& tmp) { fs::copy_file(from, tmp, fs::copy_options::overwrite_existing); });
}

// True when `path` already holds the content (checked by size first: cheap).
bool holds(const std::string& path, const CachedArtifact& artifact) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || static_cast<int64_t>(fs::file_size(path, ec)) != artifact.size) return false;
  return sha256_file(path) == artifact.sha256;
}
}  // namespace

std::optional<CacheRecord> StepCache::lookup(const std::string& key) const {
  const std::string record_path = (fs::path(dir_) / (key + ".json")).string();
  if (!file_exists(record_path)) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(record_path));
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged record is a miss
  }
  CacheRecord record;
  record.result = j.value("result", nlohmann::json());
  record.extra = j.value("extra", nlohmann::json::object());
  record.seconds = j.value("seconds", 0.0);
  for (const auto& a : j.value("artifacts", nlohmann::json::array()))
    record.artifacts.push_back({a.at("name"), a.at("sha256"), a.at("size")});
  for (const auto& artifact : record.artifacts) {
    const std::string target = (fs::path(out_dir_) / artifact.name).string();
    if (holds(target, artifact)) continue;
    const std::string blob = blob_path(dir_, artifact.sha256);
    if (!file_exists(blob)) return std::nullopt;
    copy_atomically(blob, target);
  }
  return record;
}

void StepCache::store(const std::string& key, const CacheRecord& record) const {
  nlohmann::json artifacts = nlohmann::json::array();
  for (const auto& artifact : record.artifacts) {
    const std::string blob = blob_path(dir_, artifact.sha256);
    if (!file_exists(blob)) copy_atomically((fs::path(out_dir_) / artifact.name).string(), blob);
    artifacts.push_back({{"name", artifact.name}, {"sha256", artifact.sha256}, {"size", artifact.size}});
  }
  nlohmann::json j = {{"result", record.result}, {"artifacts", artifacts}, {"extra", record.extra},
                      {"seconds", record.seconds}};
  const std::string record_path = (fs::path(dir_) / (key + ".json")).string();
  ensure_parent_dir(record_path);
  write_file_atomically(record_path, j.dump(1));
}

}  // namespace mlopt::pipeline
