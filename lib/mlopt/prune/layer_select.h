#pragma once
// Which layers a prune touches: conv / linear modules (a `weight` parameter of
// two or more dims), filtered by --layers glob patterns over module paths.
#include <torch/script.h>

#include <string>
#include <vector>

namespace mlopt::pruning {

struct PrunableLayer {
  std::string path;  // module path ("layers.0.conv1"); "" for the root module
  std::string kind;  // conv | linear
  torch::jit::Module module;
};

// `*` matches any run of characters (dots included), `?` one character.
bool glob_match(const std::string& pattern, const std::string& text);
bool matches_any(const std::vector<std::string>& patterns, const std::string& path);

// Every conv / linear layer of `module`, in module order.
std::vector<PrunableLayer> prunable_layers(const torch::jit::Module& module);

// The layers matching `patterns` (all when empty). Fails naming a pattern that
// matches no layer, or when the model has no prunable layer at all.
std::vector<PrunableLayer> select_layers(const torch::jit::Module& module, const std::vector<std::string>& patterns);

}  // namespace mlopt::pruning
