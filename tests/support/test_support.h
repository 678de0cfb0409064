#pragma once
// Helpers shared by the tests: running the mlopt binary, temp folders, paths.
#include <string>
#include <vector>

namespace mlopt::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the built mlopt binary with `args` (shell-quoted here), capturing
// stdout and stderr separately.
CommandResult run_mlopt(const std::vector<std::string>& args);
// Runs any shell command line, capturing stdout/stderr.
CommandResult run_shell(const std::string& command_line);

// A fresh folder under the build tree, removed when the test binary exits.
std::string temp_dir(const std::string& label);
// Paths in the source tree.
std::string source_path(const std::string& relative);  // e.g. "examples/models/mlp.py"
std::string test_data(const std::string& relative);    // tests/data/...
std::string shell_quote(const std::string& s);

}  // namespace mlopt::test
