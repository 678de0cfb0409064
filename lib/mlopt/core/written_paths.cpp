#include "mlopt/core/written_paths.h"

#include <filesystem>

#include "mlopt/core/error.h"

namespace fs = std::filesystem;

namespace mlopt {

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  const fs::path ca = fs::weakly_canonical(fs::absolute(a, ec), ec);
  const fs::path cb = fs::weakly_canonical(fs::absolute(b, ec), ec);
  return ca == cb;
}

namespace detail {
bool names_existing_file(const std::string& path) {
  std::error_code ec;
  return !path.empty() && path.size() < 4096 && fs::is_regular_file(path, ec);
}
}  // namespace detail

void check_path_roles(const PathRoles& roles) {
  for (size_t i = 0; i < roles.writes.size(); ++i) {
    const auto& [option, path] = roles.writes[i];
    for (const auto& [read_option, read_path] : roles.reads)
      if (same_file(path, read_path))
        fail("--{} {} is the file given as {}: it would be overwritten; write to another path", option, path,
             read_option);
    for (size_t j = 0; j < i; ++j)
      if (same_file(path, roles.writes[j].second))
        fail("--{} and --{} both name {}: one would overwrite the other", roles.writes[j].first, option, path);
  }
}

}  // namespace mlopt
