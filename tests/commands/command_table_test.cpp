// The command table (lib/mlopt/commands) is the one list of commands: the CLI
// and the pipeline's step types are built from it, and the docs follow it.
#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "mlopt/commands/command_table.h"
#include "mlopt/core/atomic_write.h"
#include "mlopt/core/options_visitor.h"
#include "mlopt/pipeline/step_registry.h"
#include "support/test_support.h"

using mlopt::commands::command_table;

namespace {

// Whether an options struct declares the artifact it writes (`v.output`).
struct OutputFinder : mlopt::OptionsVisitor<OutputFinder> {
  bool found = false;
  template <typename T>
  void on_field(mlopt::FieldRole role, const std::string&, T&, const std::string&) {
    found = found || role == mlopt::FieldRole::output || role == mlopt::FieldRole::optional_output;
  }
};

bool writes_artifact(const mlopt::commands::Command& command) {
  mlopt::AnyOptions options = command.make_options();
  OutputFinder finder;
  options.visit(finder);
  return finder.found;
}

std::vector<std::string> backticked(const std::string& text) {
  std::vector<std::string> names;
  static const std::regex quoted("`([a-z0-9-]+)`");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), quoted); it != std::sregex_iterator(); ++it)
    names.push_back((*it)[1]);
  return names;
}

// The text of docs/pipeline-config.md from the line starting with `start` to
// the end of the line, or of the paragraph.
std::string doc_text(const std::string& start, const std::string& until) {
  const std::string doc = mlopt::read_file(mlopt::test::source_path("docs/pipeline-config.md"));
  const auto begin = doc.find("\n" + start);
  REQUIRE(begin != std::string::npos);
  const auto end = doc.find(until, begin + 1);
  return doc.substr(begin + 1, end - begin - 1);
}

std::set<std::string> table_step_names(bool writing) {
  std::set<std::string> names;
  for (const auto& command : command_table())
    for (const auto& step : command.steps)
      if (step.artifact_extension.empty() != writing) names.insert(step.name);
  return names;
}

}  // namespace

TEST_CASE("commands: every command that writes an artifact is a step type that writes one", "[commands]") {
  int writing = 0;
  for (const auto& command : command_table()) {
    INFO(command.name);
    if (!writes_artifact(command)) continue;
    ++writing;
    REQUIRE_FALSE(command.steps.empty());
    for (const auto& step : command.steps) {
      const auto* type = mlopt::pipeline::find_step_type(step.name);
      REQUIRE(type != nullptr);
      CHECK(type->produces_model());
      CHECK(type->artifact_extension == step.artifact_extension);
    }
  }
  CHECK(writing == 6);  // script, trace, export-onnx, quantize, prune, distill
  // And every step a command declares is registered, measuring ones included.
  for (const auto& command : command_table())
    for (const auto& step : command.steps) CHECK(mlopt::pipeline::find_step_type(step.name) != nullptr);
}

TEST_CASE("commands: every step type is documented in docs/pipeline-config.md, and only those", "[commands]") {
  std::set<std::string> all = table_step_names(true), measuring = table_step_names(false);
  all.insert(measuring.begin(), measuring.end());
  // The `type` row of the step keys lists the step types.
  const auto listed = backticked(doc_text("| `type` |", "\n").substr(std::string("| `type` |").size()));
  CHECK(std::set<std::string>(listed.begin(), listed.end()) == all);
  // "Steps that write models: ..." names each writing step; "Steps that measure: ..." each measuring one.
  const std::string kinds = doc_text("Steps that write models:", "\n\n");
  const auto measure_at = kinds.find("Steps that measure:");
  REQUIRE(measure_at != std::string::npos);
  const auto writers = backticked(kinds.substr(0, measure_at)), measurers = backticked(kinds.substr(measure_at));
  const std::set<std::string> writer_set(writers.begin(), writers.end()), measurer_set(measurers.begin(), measurers.end());
  CHECK(writer_set == table_step_names(true));
  CHECK(measurer_set == measuring);
}

TEST_CASE("commands: mlopt --help lists the commands in the table's order, each once", "[commands][cli]") {
  std::vector<std::string> names;
  for (const auto& command : command_table()) names.push_back(command.name);
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
  CHECK(names == std::vector<std::string>{"script", "trace", "export-onnx", "quantize", "prune", "verify", "distill",
                                          "profile", "run", "publish", "registry", "serve", "monitor"});
  auto r = mlopt::test::run_mlopt({"--help"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> listed;
  static const std::regex line("\n  ([a-z-]+) {2,}");
  const auto from = r.out.find("Subcommands:");
  REQUIRE(from != std::string::npos);
  const std::string section = r.out.substr(from);
  for (auto it = std::sregex_iterator(section.begin(), section.end(), line); it != std::sregex_iterator(); ++it)
    listed.push_back((*it)[1]);
  CHECK(listed == names);
}
