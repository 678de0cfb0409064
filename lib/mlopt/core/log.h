#pragma once
// Logging and terminal styling. Everything goes to stderr: stdout is kept for
// results (--json). Colour only on a TTY and never when NO_COLOR is set.
#include <string>

#include <fmt/format.h>

namespace mlopt::log {

enum class Level { kQuiet = 0, kNormal = 1, kVerbose = 2 };

void set_level(Level level);
Level level();
bool verbose();
bool stderr_is_tty();
bool use_colour();

void write_info(const std::string& line);
void write_warn(const std::string& line);
void write_debug(const std::string& line);

template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kNormal) write_info(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write_warn(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kVerbose) write_debug(fmt::format(f, std::forward<Args>(args)...));
}

// ANSI styling helpers: return the text unchanged when colour is off.
std::string bold(const std::string& s);
std::string red(const std::string& s);
std::string green(const std::string& s);
std::string yellow(const std::string& s);

}  // namespace mlopt::log
