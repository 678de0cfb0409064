#pragma once
// Helpers shared by the tests: running the mlopt binary, temp folders, paths.
#include <functional>
#include <map>
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
// A file's bytes (empty when it cannot be read).
std::string slurp(const std::string& path);
// The message of the mlopt::Error that `body` throws, or "(no error)".
std::string error_of(const std::function<void()>& body);

// Feeds every file under tests/data/fuzz-corpus/<target>/ and
// tests/data/fuzz-regressions/<target>/ to its target's parser. A clean
// mlopt::Error is a pass; a crash or any other exception fails the running
// test, naming the file. Returns how many inputs were replayed.
using FuzzParsers = std::map<std::string, std::function<void(const std::string&)>>;
int replay_fuzz_inputs(const FuzzParsers& parsers);

}  // namespace mlopt::test
