// The repository layout (lib/mlopt/registry/repository.h): version names,
// ordering, the default version, and the integrity check.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/hash.h"
#include "mlopt/registry/repository.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace mlopt::registry;

namespace {
// A hand-made version folder with one file and its manifest.
void make_version(const std::string& repo, const std::string& model, const std::string& version) {
  const fs::path dir = fs::path(repo) / model / version;
  fs::create_directories(dir);
  mlopt::write_file_atomically((dir / "model.pt").string(), "weights " + version);
  nlohmann::json files = {{"model.pt", {{"sha256", mlopt::sha256_file((dir / "model.pt").string())}, {"size", 9}}}};
  mlopt::write_file_atomically((dir / kVersionManifest).string(),
                               nlohmann::json{{"model", model}, {"artifact", "model.pt"}, {"files", files}}.dump());
}
}  // namespace

TEST_CASE("registry: versions order as dotted numbers, names are checked", "[registry]") {
  CHECK(version_less("2", "10"));
  CHECK(version_less("1.4.0", "2"));
  CHECK(version_less("1.4", "1.4.1"));
  CHECK_FALSE(version_less("10", "9"));
  CHECK(version_less("9", "canary"));
  CHECK(parse_ref("digits:3").version == "3");
  CHECK(parse_ref("digits").version.empty());
  CHECK_THROWS_AS(parse_ref("../x:1"), mlopt::Error);
  CHECK_THROWS_AS(parse_ref("digits:"), mlopt::Error);
  CHECK_FALSE(is_plain_name(".staging-1"));
}

TEST_CASE("registry: the next version, the default version and promote", "[registry]") {
  const std::string repo = mlopt::test::temp_dir("repo");
  fs::create_directories(fs::path(repo) / "digits");
  CHECK(next_version(repo, "digits") == "1");
  make_version(repo, "digits", "1");
  make_version(repo, "digits", "2");
  make_version(repo, "digits", "1.5.0");
  fs::create_directories(fs::path(repo) / "digits" / ".staging-9-abc");  // a publish under way: no version
  CHECK(list_versions(repo, "digits") == std::vector<std::string>{"1", "1.5.0", "2"});
  CHECK(next_version(repo, "digits") == "3");
  CHECK(default_version(repo, "digits") == "2");
  promote(repo, {"digits", "1"});
  CHECK(promoted_version(repo, "digits") == "1");
  CHECK(default_version(repo, "digits") == "1");
  CHECK_THROWS_WITH(promote(repo, {"digits", "7"}), Catch::Contains("no version '7'") && Catch::Contains("1, 1.5.0, 2"));
  CHECK(list_models(repo) == std::vector<std::string>{"digits"});
}

TEST_CASE("registry: a changed, missing or added file is caught", "[registry]") {
  const std::string repo = mlopt::test::temp_dir("repo");
  make_version(repo, "m", "1");
  const fs::path dir = fs::path(repo) / "m" / "1";
  CHECK(check_version_files(dir.string()).empty());
  mlopt::write_file_atomically((dir / "model.pt").string(), "weights 2");
  auto problems = check_version_files(dir.string());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == "model.pt");
  CHECK_THAT(problems[0].problem, Catch::Contains("sha256"));
  mlopt::write_file_atomically((dir / "extra.bin").string(), "x");
  fs::remove(dir / "model.pt");
  problems = check_version_files(dir.string());
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].problem == "missing");
  CHECK(problems[1].file == "extra.bin");
}
