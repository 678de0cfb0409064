#pragma once
// Loads a state_dict into a scripted module, checking names, shapes and dtypes;
// every missing, unexpected or mis-shaped entry is listed in one error.
#include <torch/script.h>

#include <string>

namespace mlopt::script {
void apply_weights(torch::jit::Module& module, const std::string& weights_path);
}  // namespace mlopt::script
