#include "output.h"

#include <fmt/format.h>

namespace mlopt::cli {
void print_result(const GlobalOptions& globals, const nlohmann::json& json, const std::string& human_text) {
  if (globals.json) {
    fmt::print("{}\n", json.dump(2));
  } else if (!globals.quiet && !human_text.empty()) {
    fmt::print("{}", human_text);
    if (human_text.back() != '\n') fmt::print("\n");
  }
  std::fflush(stdout);
}
}  // namespace mlopt::cli
