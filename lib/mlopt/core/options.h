#pragma once
// The options struct of each subcommand is the single source of truth for its
// flags (CLI) and its YAML keys (pipeline). Each struct has a
//
//   template <class V> void visit(V& v) { ... }
//
// member that declares its fields with these calls (V is duck-typed):
//   v.positional("model", model, "help")          the main input path
//   v.option("input", inputs, "help")             --input VALUE (vector: repeatable)
//   v.flag("no-check", no_check, "help")          --no-check (bool)
//   v.choice("mode", mode, {"a", "b"}, "help")    --mode one of the choices
//   v.output("output", output, "help")            -o/--output path of the artifact
//   v.written_file("trace", trace, "help")        --trace PATH, another file the command writes
//                                                  (inside --out in a pipeline; never over an input)
// Names are kebab-case on the command line and snake_case in YAML.
// Supported field types: std::string, bool, int, int64_t, double,
// std::vector<std::string>, std::vector<int64_t>, std::vector<double>.
#include <cstdint>
#include <string>

namespace mlopt {

// Options every subcommand takes.
struct GlobalOptions {
  int threads = 0;       // 0: all cores
  uint64_t seed = 0;
  bool verbose = false;
  bool quiet = false;
  bool json = false;
};

// Applies threads, seed and log level to the process.
void apply_global_options(const GlobalOptions& options);
// Cores available to this process.
int available_cores();

inline std::string yaml_key_of(const std::string& flag_name) {
  std::string key = flag_name;
  for (auto& c : key)
    if (c == '-') c = '_';
  return key;
}

}  // namespace mlopt
