#pragma once
// Loads a state_dict into a scripted module, checking names, shapes and dtypes;
// every missing, unexpected or mis-shaped entry is listed in one error.
#include <torch/script.h>

#include <string>

namespace mlopt::script {
// key: the checkpoint entry holding the state_dict (empty: found by its usual names).
// strict false: missing entries stay at their initialization and unexpected ones are
// ignored (both listed in the log); shapes and dtypes must still match.
void apply_weights(torch::jit::Module& module, const std::string& weights_path, const std::string& key = "",
                   bool strict = true);
}  // namespace mlopt::script
