#include "mlopt/core/dynamic_resize.h"

#include <algorithm>

namespace mlopt {

namespace {
std::vector<std::string> dynamic_dim_names(const std::vector<InputSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& spec : specs)
    for (const auto& dim : spec.dims)
      if (dim.dynamic() && std::find(names.begin(), names.end(), dim.name) == names.end()) names.push_back(dim.name);
  return names;
}
}  // namespace

std::vector<InputSpec> with_moved_dynamic_dims(const std::vector<InputSpec>& specs, int attempt) {
  const auto names = dynamic_dim_names(specs);
  std::vector<InputSpec> moved = specs;
  for (auto& spec : moved)
    for (auto& dim : spec.dims)
      if (dim.dynamic()) {
        const int64_t k = std::find(names.begin(), names.end(), dim.name) - names.begin();
        dim.size = attempt == 0 ? dim.size + 1 + k : dim.size * 2 + k;
      }
  return moved;
}

std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> moved_dynamic_dims(
    const std::vector<InputSpec>& specs, const std::vector<InputSpec>& moved) {
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> sizes;
  for (size_t i = 0; i < specs.size() && i < moved.size(); ++i)
    for (size_t d = 0; d < specs[i].dims.size() && d < moved[i].dims.size(); ++d) {
      const auto& dim = specs[i].dims[d];
      if (!dim.dynamic()) continue;
      bool seen = std::any_of(sizes.begin(), sizes.end(), [&](const auto& entry) { return entry.first == dim.name; });
      if (!seen) sizes.push_back({dim.name, {dim.size, moved[i].dims[d].size}});
    }
  return sizes;
}

}  // namespace mlopt
