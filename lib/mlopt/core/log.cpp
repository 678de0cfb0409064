#include "mlopt/core/log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace mlopt::log {
namespace {
Level g_level = Level::kNormal;

std::string style(const char* code, const std::string& s) {
  if (!use_colour()) return s;
  return fmt::format("\033[{}m{}\033[0m", code, s);
}
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
bool verbose() { return g_level >= Level::kVerbose; }
bool stderr_is_tty() { return isatty(fileno(stderr)) != 0; }
bool use_colour() {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && no_colour[0] != '\0') return false;
  return stderr_is_tty();
}

void write_info(const std::string& line) { fmt::print(stderr, "{}\n", line); }
// --quiet means only errors on stderr: warnings are dropped too.
void write_warn(const std::string& line) {
  if (level() >= Level::kNormal) fmt::print(stderr, "{} {}\n", yellow("warning:"), line);
}
void write_debug(const std::string& line) { fmt::print(stderr, "{}\n", line); }

std::string bold(const std::string& s) { return style("1", s); }
std::string red(const std::string& s) { return style("31", s); }
std::string green(const std::string& s) { return style("32", s); }
std::string yellow(const std::string& s) { return style("33", s); }

}  // namespace mlopt::log
