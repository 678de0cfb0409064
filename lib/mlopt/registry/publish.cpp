#include "mlopt/registry/publish.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <random>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/hash.h"
#include "mlopt/core/log.h"
#include "mlopt/registry/baseline.h"
#include "mlopt/registry/repository.h"
#include "mlopt/serve/artifact.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt {
namespace registry {
namespace {

// A staging folder in REPO/<model>/ (same file system as the version, so the
// final rename is atomic), removed unless it was renamed into place.
class StagingFolder {
 public:
  explicit StagingFolder(const fs::path& model_dir) {
    std::random_device rd;
    path_ = model_dir / fmt::format(".staging-{}-{:08x}", ::getpid(), rd());
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) fail("{}: cannot create the staging folder: {}", path_.string(), ec.message());
  }
  ~StagingFolder() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

void fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Copies the release's files (not its dot-entries: the step cache, the lock).
void copy_release(const fs::path& release, const fs::path& to) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(release, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    const fs::path target = to / fs::relative(it->path(), release);
    if (it->is_directory(ec)) {
      fs::create_directories(target, ec);
    } else if (it->is_regular_file(ec)) {
      std::error_code copy_ec;
      fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing, copy_ec);
      if (copy_ec) fail("copying {} into the repository: {}", it->path().string(), copy_ec.message());
      fsync_path(target, O_RDONLY);
    }
  }
  if (ec) fail("{}: cannot read the release folder: {}", release.string(), ec.message());
}

json file_hashes(const fs::path& dir, int64_t& bytes) {
  json files = json::object();
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = fs::relative(it->path(), dir).generic_string();
    if (name == kVersionManifest) continue;
    const int64_t size = file_size(it->path().string());
    bytes += size;
    files[name] = {{"sha256", sha256_file(it->path().string())}, {"size", size}};
  }
  return files;
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string who() {
  const char* user = std::getenv("USER");
  std::string name = user && *user ? user : "";
  if (name.empty())
    if (const passwd* pw = ::getpwuid(::getuid())) name = pw->pw_name;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return fmt::format("{}@{}", name.empty() ? "unknown" : name, host);
}

const json* artifact_entry(const json& manifest, const std::string& file) {
  for (const auto& a : manifest["artifacts"])
    if (a.is_object() && a.value("path", "") == file) return &a;
  return nullptr;
}

// Renames `from` to `to` unless `to` exists (then false).
bool rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST || errno == ENOTEMPTY) return false;
  if (errno == EINVAL || errno == ENOSYS) {
    // A file system without RENAME_NOREPLACE: renaming a folder onto a
    // non-empty one fails, and a version folder is never empty.
    std::error_code ec;
    if (fs::exists(to, ec)) return false;
    if (::rename(from.c_str(), to.c_str()) == 0) return true;
    if (errno == EEXIST || errno == ENOTEMPTY) return false;
  }
  fail("{}: cannot move the new version into place: {}", to.string(), std::strerror(errno));
}

}  // namespace

PublishResult publish_release(const PublishRequest& request) {
  const fs::path release(request.release);
  std::error_code ec;
  if (!fs::is_directory(release, ec)) fail("{}: no such release folder", request.release);
  const json manifest = read_json_file((release / "manifest.json").string(), "the manifest.json that `mlopt run` writes");
  if (!manifest.contains("artifacts") || !manifest["artifacts"].is_array())
    fail("{}: not a manifest of `mlopt run` (expected an \"artifacts\" list)", (release / "manifest.json").string());
  const std::string status = manifest.value("status", "");
  if (status != "passed" && !request.force)
    fail("{}: the run's status is '{}', not 'passed'; fix the release or publish it anyway with --force",
         (release / "manifest.json").string(), status.empty() ? "unknown" : status);

  const serving::ServedArtifact served = serving::find_artifact(request.release, request.artifact, request.model);
  const std::string model = served.name;
  if (!is_plain_name(model)) fail("model name '{}': use letters, digits, '-', '_' and '.'", model);
  if (!request.version.empty() && !is_plain_name(request.version))
    fail_usage("--version '{}': use letters, digits, '-', '_' and '.' (not starting with '.')", request.version);
  if (request.data.empty())
    fail("{}: no data set for the baseline; name one with --data (the validation data of the model)",
         request.release);
  Thresholds thresholds;
  thresholds.merge(request.monitor, "publish.monitor");

  const fs::path model_dir = fs::path(request.repo) / model;
  fs::create_directories(model_dir, ec);
  if (ec) fail("{}: cannot create the repository folder: {}", model_dir.string(), ec.message());
  StagingFolder staging(model_dir);
  copy_release(release, staging.path());
  const std::string artifact_file = fs::relative(served.path, release).generic_string();
  // Triton's layout names the model file model.<ext>; the release's own names stay too.
  const std::string ext = fs::path(artifact_file).extension().string();
  fs::copy_file(staging.path() / artifact_file, staging.path() / ("model" + ext), fs::copy_options::overwrite_existing, ec);
  if (ec) fail("{}: cannot copy the served artifact: {}", artifact_file, ec.message());

  // Measured on the staged copy: the baseline describes exactly the bytes published.
  BaselineRequest baseline_request;
  baseline_request.artifact = (staging.path() / artifact_file).string();
  for (const auto& spec : served.inputs) baseline_request.input_names.push_back(spec.name);
  baseline_request.output_names = served.output_names;
  baseline_request.data = request.data;
  baseline_request.data_options = request.data_options;
  baseline_request.thresholds = thresholds;
  const json baseline = measure_baseline(baseline_request);
  write_file_atomically((staging.path() / kBaselineFile).string(), baseline.dump(2) + "\n");

  PublishResult result;
  const json* entry = artifact_entry(manifest, artifact_file);
  json version_manifest = {
      {"model", model},
      {"artifact", artifact_file},
      {"format", entry ? entry->value("format", "") : ""},
      {"signature", entry ? entry->value("signature", json::object()) : json::object()},
      {"metrics", entry ? entry->value("metrics", json::object()) : json::object()},
      {"created_at", utc_now()},
      {"created_by", who()},
      {"source", fs::absolute(release).lexically_normal().string()},
      {"pipeline", manifest.value("pipeline", "")},
      {"status", status},
      {"versions",
       {{"mlopt", manifest.value("mlopt_version", "")},
        {"libtorch", manifest.value("libtorch_version", "")},
        {"onnx", manifest.value("onnx_version", "")}}},
      {"seed", manifest.value("seed", json())},
      {"config", manifest.value("config", json::object())},
      {"gates", manifest.value("gates", json::array())},
      {"artifacts", json::array()},
      {"thresholds", thresholds.to_json()},
  };
  for (const auto& a : manifest["artifacts"])
    if (a.is_object())
      version_manifest["artifacts"].push_back({{"path", a.value("path", "")},
                                               {"format", a.value("format", "")},
                                               {"size", a.value("size", int64_t{0})},
                                               {"metrics", a.value("metrics", json::object())}});
  version_manifest["files"] = file_hashes(staging.path(), result.bytes);
  write_file_atomically((staging.path() / kVersionManifest).string(), version_manifest.dump(2) + "\n");
  fsync_path(staging.path(), O_RDONLY | O_DIRECTORY);

  // Claim a version name by renaming onto it; a concurrent publish that took
  // the name first makes the rename fail, and the next number is tried.
  std::string version = request.version.empty() ? next_version(request.repo, model) : request.version;
  for (int attempt = 0;; ++attempt) {
    if (rename_no_replace(staging.path(), model_dir / version)) break;
    if (!request.version.empty())
      fail("{}: version {} of '{}' exists; versions are immutable, publish under another --version",
           (model_dir / version).string(), version, model);
    if (attempt > 1000) fail("{}: could not claim a free version", model_dir.string());
    version = std::to_string(std::max(std::stoll(next_version(request.repo, model)), std::stoll(version) + 1));
  }
  staging.release();
  fsync_path(model_dir, O_RDONLY | O_DIRECTORY);

  result.repo = request.repo;
  result.model = model;
  result.version = version;
  result.dir = (model_dir / version).string();
  result.artifact = artifact_file;
  result.files = static_cast<int64_t>(version_manifest["files"].size()) + 1;
  result.baseline = baseline;
  result.baseline_rows = baseline["data"].value("rows", int64_t{0});
  log::info("published {}:{} ({}, baseline of {} validation rows) to {}", model, version, artifact_file,
            result.baseline_rows, result.dir);
  return result;
}

PublishSection publish_section(const json& config, const std::string& what) {
  PublishSection section;
  if (!config.is_object() || !config.contains("publish")) return section;
  const json& p = config["publish"];
  if (!p.is_object()) fail("{}: publish expects a map (model, artifact, data, monitor)", what);
  for (const auto& [key, value] : p.items()) {
    if (key == "monitor") {
      Thresholds check;
      check.merge(value, what + ": publish.monitor");
      section.monitor = value;
      continue;
    }
    if (!value.is_string()) fail("{}: publish.{} expects a string, got {}", what, key, value.dump());
    if (key == "model") section.model = value;
    else if (key == "artifact") section.artifact = value;
    else if (key == "data") section.data = value;
    else fail("{}: publish: unknown key '{}' (expected model, artifact, data, monitor)", what, key);
  }
  if (!section.model.empty() && !is_plain_name(section.model))
    fail("{}: publish.model '{}': use letters, digits, '-', '_' and '.'", what, section.model);
  return section;
}

DataOptions data_options_of(const json& entry, const std::string& what) {
  DataOptions options;
  if (entry.is_string()) {
    options.path = entry;
    return options;
  }
  if (!entry.is_object()) fail("{}: expected a path or a map with path", what);
  try {
    options.path = entry.value("path", "");
    options.label_column = entry.value("label_column", options.label_column);
    options.no_labels = entry.value("no_labels", options.no_labels);
    options.reshape = entry.value("reshape", options.reshape);
    options.scale = entry.value("scale", options.scale);
    options.val_split = entry.value("val_split", options.val_split);
    options.split_seed = entry.value("split_seed", options.split_seed);
  } catch (const json::exception& e) {
    fail("{}: {}", what, first_line(e.what()));
  }
  return options;
}

std::string baseline_data_set(const json& config, const PublishSection& section) {
  const json data = config.is_object() ? config.value("data", json::object()) : json::object();
  if (!section.data.empty()) {
    if (!data.contains(section.data)) fail("publish.data '{}': no such data set in the pipeline's data", section.data);
    return section.data;
  }
  return data.empty() ? "" : data.begin().key();
}

}  // namespace registry

namespace {

// A data set path of the manifest's config is relative to the pipeline file,
// which the release does not record; the resolved steps name it as they ran.
std::string find_data_file(const json& manifest, const std::string& configured, const fs::path& release) {
  std::error_code ec;
  if (fs::path(configured).is_absolute() && fs::exists(configured, ec)) return configured;
  const std::string file = fs::path(configured).filename().string();
  for (const auto& step : manifest.value("resolved_steps", json::array()))
    for (const auto& run : step.value("runs", json::array())) {
      const json options = run.value("options", json::object());  // items() must not outlive it
      for (const auto& [key, value] : options.items())
        if (value.is_string() && fs::path(value.get<std::string>()).filename() == file &&
            fs::exists(value.get<std::string>(), ec))
          return value;
    }
  // A data set no step read: placed as the model source is. The config names
  // both relative to the pipeline file, the steps name the source as it was
  // opened, so the data set is where the config puts it from the source.
  const json model = manifest.value("config", json::object()).value("model", json());
  std::vector<std::string> sources;
  if (model.is_string()) sources.push_back(model);
  for (const char* key : {"path", "weights"})
    if (model.is_object() && model.value(key, json()).is_string()) sources.push_back(model[key]);
  for (const auto& step : manifest.value("resolved_steps", json::array()))
    for (const auto& run : step.value("runs", json::array())) {
      const json options = run.value("options", json::object());
      for (const auto& [key, value] : options.items())
        for (const fs::path source : sources)
          if (value.is_string() && fs::path(value.get<std::string>()).filename() == source.filename()) {
            const fs::path from_source = fs::path(configured).lexically_relative(source.parent_path());
            const fs::path candidate = (fs::path(value.get<std::string>()).parent_path() / from_source).lexically_normal();
            if (!from_source.empty() && fs::exists(candidate, ec)) return candidate.string();
          }
    }
  for (const fs::path& base : {fs::path("."), release, release.parent_path()})
    if (fs::exists(base / configured, ec)) return (base / configured).string();
  fail("{}: the baseline's data set {} is not found from here; name it with --data", release.string(), configured);
}

}  // namespace

PublishResult publish(const PublishOptions& options, const GlobalOptions&) {
  using namespace registry;
  const fs::path release(options.release);
  const json manifest = read_json_file((release / "manifest.json").string(), "the manifest.json that `mlopt run` writes");
  const json config = manifest.value("config", json::object());
  const PublishSection section = publish_section(config, (release / "manifest.json").string());
  PublishRequest request;
  request.release = options.release;
  request.repo = options.repo;
  request.version = options.version;
  request.model = !options.model.empty() ? options.model : section.model;
  request.artifact = !options.artifact.empty() ? options.artifact : section.artifact;
  request.monitor = section.monitor;
  request.force = options.force;
  if (!options.data.empty()) {
    request.data = options.data;
    request.data_options = options.data_options;
  } else {
    const std::string set = baseline_data_set(config, section);
    if (!set.empty()) {
      request.data_options = data_options_of(config["data"][set], "data." + set);
      request.data = find_data_file(manifest, request.data_options.path, release);
    }
  }
  return publish_release(request);
}

json PublishResult::to_json() const {
  return {{"repo", repo},   {"model", model}, {"version", version},           {"dir", dir},
          {"artifact", artifact}, {"files", files}, {"bytes", bytes}, {"baseline_rows", baseline_rows}};
}

std::string PublishResult::to_text() const {
  return fmt::format("published {}:{} -> {} ({} files, {} bytes; served artifact {}; baseline of {} rows)", model,
                     version, dir, files, bytes, artifact, baseline_rows);
}

}  // namespace mlopt
