// ctest runs each TEST_CASE by name; CMake cuts a name at ';' (a list
// separator), and the cut name matches no test case, so Catch runs nothing
// and the ctest test passes without having run. No name may contain ';'.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/test_support.h"

TEST_CASE("test names: no TEST_CASE name contains a semicolon (ctest would run nothing for it)", "[cli]") {
  const std::regex with_semicolon(R"re(TEST_CASE\("[^"]*;)re");
  std::vector<std::string> offenders;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(mlopt::test::source_path("tests"))) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (auto it = std::sregex_iterator(source.begin(), source.end(), with_semicolon); it != std::sregex_iterator(); ++it)
      offenders.push_back(entry.path().filename().string() + ": " + it->str());
  }
  INFO(offenders.size() << " offending names, first: " << (offenders.empty() ? "" : offenders[0]));
  CHECK(offenders.empty());
}
