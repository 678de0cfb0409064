#include "support/test_support.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mlopt::test {
namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

namespace {
}  // namespace

CommandResult run_shell(const std::string& command_line) {
  std::string dir = temp_dir("cmd");
  std::string out = dir + "/stdout", err = dir + "/stderr";
  std::string full = "{ " + command_line + "\n} >" + shell_quote(out) + " 2>" + shell_quote(err);
  int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  fs::remove_all(dir);
  return r;
}

CommandResult run_mlopt(const std::vector<std::string>& args) {
  std::string line = std::string("NO_COLOR=1 ") + shell_quote(MLOPT_BINARY);
  for (const auto& a : args) line += " " + shell_quote(a);
  return run_shell(line);
}

std::string temp_dir(const std::string& label) {
  static std::atomic<int> counter{0};
  static const fs::path root = [] {
    fs::path p = fs::temp_directory_path() / ("mlopt-tests-" + std::to_string(getpid()));
    fs::create_directories(p);
    std::atexit([] { std::error_code ec; fs::remove_all(fs::temp_directory_path() / ("mlopt-tests-" + std::to_string(getpid())), ec); });
    return p;
  }();
  fs::path p = root / (label + "-" + std::to_string(counter++));
  fs::create_directories(p);
  return p.string();
}

std::string source_path(const std::string& relative) { return std::string(MLOPT_SOURCE_DIR) + "/" + relative; }
std::string test_data(const std::string& relative) { return std::string(MLOPT_TEST_DATA_DIR) + "/" + relative; }

int replay_fuzz_inputs(const FuzzParsers& parsers) {
  namespace fs = std::filesystem;
  int replayed = 0;
  for (const char* root : {"fuzz-corpus", "fuzz-regressions"}) {
    for (const auto& [name, parse] : parsers) {
      fs::path dir = test_data(std::string(root) + "/" + name);
      if (!fs::is_directory(dir)) continue;
      for (const auto& entry : fs::directory_iterator(dir)) {
        std::string bytes = mlopt::read_file(entry.path().string());
        INFO(entry.path().string());
        try {
          parse(bytes);
        } catch (const mlopt::Error&) {
        }
        ++replayed;
      }
    }
  }
  return replayed;
}

}  // namespace mlopt::test
