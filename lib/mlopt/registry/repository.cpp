#include "mlopt/registry/repository.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <set>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/hash.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt::registry {
namespace {

std::vector<std::string> subfolders(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Dot-folders are staging folders of publishes under way (or crashed).
    if (!name.empty() && name[0] != '.' && it->is_directory(ec)) names.push_back(name);
  }
  return names;
}

std::vector<std::string> dotted_parts(const std::string& version) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = version.find('.', start);
    parts.push_back(version.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() < 18 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

VersionRef parse_ref(const std::string& text) {
  VersionRef ref;
  const auto colon = text.find(':');
  ref.model = text.substr(0, colon);
  if (colon != std::string::npos) ref.version = text.substr(colon + 1);
  if (!is_plain_name(ref.model))
    fail_usage("'{}': expected MODEL or MODEL:VERSION (letters, digits, '-', '_', '.')", text);
  if (colon != std::string::npos && !is_plain_name(ref.version))
    fail_usage("'{}': expected a version after ':' (letters, digits, '-', '_', '.')", text);
  return ref;
}

bool is_plain_name(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool version_less(const std::string& a, const std::string& b) {
  const auto pa = dotted_parts(a), pb = dotted_parts(b);
  const bool na = std::all_of(pa.begin(), pa.end(), all_digits), nb = std::all_of(pb.begin(), pb.end(), all_digits);
  if (na != nb) return na;  // numbered versions first
  if (!na) return a < b;
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    const long long x = std::stoll(pa[i]), y = std::stoll(pb[i]);
    if (x != y) return x < y;
  }
  return pa.size() < pb.size();
}

std::vector<std::string> list_models(const std::string& repo) {
  std::error_code ec;
  if (!fs::is_directory(repo, ec)) fail("{}: no such repository folder", repo);
  auto models = subfolders(repo);
  std::sort(models.begin(), models.end());
  return models;
}

std::vector<std::string> list_versions(const std::string& repo, const std::string& model) {
  std::vector<std::string> versions;
  for (const auto& name : subfolders(fs::path(repo) / model))
    if (is_plain_name(name)) versions.push_back(name);
  std::sort(versions.begin(), versions.end(), version_less);
  return versions;
}

std::string next_version(const std::string& repo, const std::string& model) {
  long long largest = 0;
  for (const auto& v : list_versions(repo, model)) {
    const std::string head = dotted_parts(v).front();
    if (all_digits(head)) largest = std::max(largest, std::stoll(head));
  }
  return std::to_string(largest + 1);
}

std::string promoted_version(const std::string& repo, const std::string& model) {
  const fs::path file = fs::path(repo) / model / kPromotedFile;
  if (!file_exists(file.string())) return "";
  std::string text = read_file(file.string());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string default_version(const std::string& repo, const std::string& model) {
  const std::string promoted = promoted_version(repo, model);
  if (!promoted.empty()) return promoted;
  const auto versions = list_versions(repo, model);
  return versions.empty() ? "" : versions.back();
}

void promote(const std::string& repo, const VersionRef& ref) {
  if (ref.version.empty()) fail_usage("promote needs MODEL:VERSION, got '{}'", ref.model);
  const std::string dir = version_dir(repo, ref);
  read_version_manifest(dir);  // only a complete version is promoted
  write_file_atomically((fs::path(repo) / ref.model / kPromotedFile).string(), ref.version + "\n");
}

std::string version_dir(const std::string& repo, const VersionRef& ref) {
  std::error_code ec;
  if (!fs::is_directory(repo, ec)) fail("{}: no such repository folder", repo);
  if (!fs::is_directory(fs::path(repo) / ref.model, ec)) {
    const auto models = list_models(repo);
    fail("{}: no model '{}' (models: {})", repo, ref.model, models.empty() ? "none" : fmt::format("{}", fmt::join(models, ", ")));
  }
  const std::string version = ref.version.empty() ? default_version(repo, ref.model) : ref.version;
  const fs::path dir = fs::path(repo) / ref.model / version;
  if (version.empty() || !fs::is_directory(dir, ec)) {
    const auto versions = list_versions(repo, ref.model);
    fail("{}: model '{}' has no version '{}' (versions: {})", repo, ref.model, version,
         versions.empty() ? "none" : fmt::format("{}", fmt::join(versions, ", ")));
  }
  return dir.string();
}

json read_json_file(const std::string& path, const std::string& expected) {
  if (!file_exists(path)) fail("{}: missing ({})", path, expected);
  json j = json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) fail("{}: not valid JSON (expected {})", path, expected);
  return j;
}

json read_version_manifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / kVersionManifest).string();
  json manifest = read_json_file(path, "the version manifest that `mlopt publish` writes");
  if (!manifest.contains("files") || !manifest["files"].is_object() || !manifest.contains("artifact") ||
      !manifest["artifact"].is_string())
    fail("{}: not a version manifest (expected \"files\" and \"artifact\")", path);
  return manifest;
}

std::vector<FileProblem> check_version_files(const std::string& dir) {
  std::vector<FileProblem> problems;
  json manifest;
  try {
    manifest = read_version_manifest(dir);
  } catch (const Error& e) {
    return {{kVersionManifest, e.what()}};
  }
  std::set<std::string> listed;
  for (const auto& [name, entry] : manifest["files"].items()) {
    listed.insert(name);
    const fs::path path = fs::path(dir) / name;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      problems.push_back({name, "missing"});
      continue;
    }
    const std::string expected = entry.is_object() ? entry.value("sha256", "") : "";
    const std::string actual = sha256_file(path.string());
    if (actual != expected)
      problems.push_back({name, fmt::format("sha256 {} differs from the manifest's {}", actual.substr(0, 16),
                                            expected.substr(0, 16))});
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = fs::relative(it->path(), dir).generic_string();
    if (name != kVersionManifest && !listed.count(name)) problems.push_back({name, "not in the manifest (added)"});
  }
  return problems;
}

}  // namespace mlopt::registry
