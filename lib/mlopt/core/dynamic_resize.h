#pragma once
// Input specs with their dynamic dims moved to other sizes: what the exporter's
// shape probe, the release signature and the checks run a second time to learn
// which dims follow which input dim. One rule for all of them: every dynamic
// dim NAME gets its own new size, distinct from its example size and from the
// other names' new sizes; dims sharing a name (a batch dim over several inputs)
// stay equal.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mlopt/core/input_spec.h"

namespace mlopt {

// Attempt 0 moves each name to example + 1 + k (k: the name's index), attempt
// 1 to 2 * example + k, for models that refuse the first choice (a size that
// must stay even, divisible, ...).
std::vector<InputSpec> with_moved_dynamic_dims(const std::vector<InputSpec>& specs, int attempt = 0);

// (name, (example size, moved size)) for every dynamic dim name, in first-seen order.
std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> moved_dynamic_dims(
    const std::vector<InputSpec>& specs, const std::vector<InputSpec>& moved);

}  // namespace mlopt
