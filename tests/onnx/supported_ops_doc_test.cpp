// docs/export-onnx.md lists every op the exporter converts: each kind in the
// converter registry appears there in backquotes.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "mlopt/onnx/converter.h"
#include "support/test_support.h"

TEST_CASE("onnx docs: every registered converter is in the supported ops list of docs/export-onnx.md", "[onnx]") {
  std::ifstream in(mlopt::test::source_path("docs/export-onnx.md"));
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  std::vector<std::string> missing;
  for (const auto& [kind, fn] : mlopt::onnx_export::converter_registry().entries()) {
    auto name = kind.substr(kind.find("::") + 2);
    if (doc.find("`" + kind + "`") == std::string::npos && doc.find("`" + name + "`") == std::string::npos)
      missing.push_back(kind);
  }
  std::sort(missing.begin(), missing.end());
  std::string list;
  for (auto& m : missing) list += m + " ";
  INFO("not in docs/export-onnx.md: " << list);
  CHECK(missing.empty());
  CHECK(mlopt::onnx_export::converter_registry().size() > 200);
}
