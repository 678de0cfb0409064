#pragma once
// A model repository on disk, in Triton's layout: REPO/<model>/<version>/.
// A version folder is immutable once published (publish.h renames a finished
// staging folder into place); it holds the release's files, `version.json`
// (sha256 of every file, versions, config, gates, metrics, who/when) and
// `baseline.json` (what the model's validation data looked like, drift.h).
// REPO/<model>/promoted names the version served by default. No LibTorch here.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace mlopt::registry {

inline constexpr const char* kVersionManifest = "version.json";
inline constexpr const char* kBaselineFile = "baseline.json";
inline constexpr const char* kPromotedFile = "promoted";

// MODEL or MODEL:VERSION (version empty: the default version).
struct VersionRef {
  std::string model, version;
  std::string to_string() const { return version.empty() ? model : model + ":" + version; }
};
VersionRef parse_ref(const std::string& text);

// Letters, digits, '-', '_' and '.', not starting with '.' (names become folders and URLs).
bool is_plain_name(const std::string& name);

// Orders versions as dotted numbers ("2" < "10", "1.4.0" < "2"); non-numbers last, by text.
bool version_less(const std::string& a, const std::string& b);

std::vector<std::string> list_models(const std::string& repo);
// Published versions, oldest first (staging folders are not versions).
std::vector<std::string> list_versions(const std::string& repo, const std::string& model);
// The next integer version: one past the largest leading number in use.
std::string next_version(const std::string& repo, const std::string& model);

// The promoted version, "" when none was promoted.
std::string promoted_version(const std::string& repo, const std::string& model);
// The version served by default: the promoted one, else the newest.
std::string default_version(const std::string& repo, const std::string& model);
void promote(const std::string& repo, const VersionRef& ref);

// The folder of MODEL[:VERSION]; fails naming what exists when it does not.
std::string version_dir(const std::string& repo, const VersionRef& ref);
// The version folder's version.json; fails with one line when missing or malformed.
nlohmann::json read_version_manifest(const std::string& dir);
nlohmann::json read_json_file(const std::string& path, const std::string& expected);

// Files of a version folder that do not match its version.json: changed,
// missing, or not listed. Empty when the folder is intact.
struct FileProblem {
  std::string file, problem;
};
std::vector<FileProblem> check_version_files(const std::string& dir);

}  // namespace mlopt::registry
