#pragma once
// A command never writes over a file it reads, nor writes one file twice:
// `mlopt profile m.pt --trace m.pt` would replace the model with a trace.
// The options struct says which fields are written (`v.output`,
// `v.optional_output`, `v.written_file`); every other path-valued field that
// names an existing file is read.
#include <string>
#include <utility>
#include <vector>

#include "mlopt/core/options_visitor.h"

namespace mlopt {

// True when both paths name the same file (resolving '..', symlinks and
// relative paths; also for files that do not exist yet).
bool same_file(const std::string& a, const std::string& b);

struct PathRoles {
  std::vector<std::pair<std::string, std::string>> reads, writes;  // (option name, path)
};

// Throws mlopt::Error naming both options when a written path is also read or
// written twice.
void check_path_roles(const PathRoles& roles);

namespace detail {
bool names_existing_file(const std::string& path);

class PathRoleCollector : public OptionsVisitor<PathRoleCollector> {
 public:
  PathRoles roles;
  template <typename T>
  void on_field(FieldRole role, const std::string& n, T& f, const std::string&) {
    if (role == FieldRole::choice) return;  // a choice's value may happen to name a file
    if constexpr (std::is_same_v<T, std::string>) {
      if (is_output_role(role)) return write(n, f);
    }
    read(n, f);
  }

 private:
  template <typename T>
  void read(const std::string& n, T& f) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (names_existing_file(f)) roles.reads.emplace_back(n, f);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      for (const auto& item : f)
        if (names_existing_file(item)) roles.reads.emplace_back(n, item);
    }
  }
  void write(const std::string& n, const std::string& f) {
    if (!f.empty()) roles.writes.emplace_back(n, f);
  }
};
}  // namespace detail

template <typename Options>
PathRoles path_roles_of(const Options& options) {
  Options copy = options;
  detail::PathRoleCollector collector;
  copy.visit(collector);
  return collector.roles;
}

template <typename Options>
void check_written_paths(const Options& options) {
  check_path_roles(path_roles_of(options));
}

}  // namespace mlopt
