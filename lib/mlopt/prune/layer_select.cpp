#include "mlopt/prune/layer_select.h"

#include "mlopt/core/error.h"

namespace mlopt::pruning {

bool glob_match(const std::string& pattern, const std::string& text) {
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& path) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns)
    if (glob_match(p, path)) return true;
  return false;
}

namespace {
std::string prunable_kind(const torch::jit::Module& m, const at::Tensor& weight) {
  std::string type = m.type()->name() ? m.type()->name()->name() : "";
  if (type.find("Embedding") != std::string::npos || type.find("Norm") != std::string::npos) return "";
  if (type.find("Conv") != std::string::npos || weight.dim() >= 3) return "conv";
  return "linear";
}
}  // namespace

std::vector<PrunableLayer> prunable_layers(const torch::jit::Module& module) {
  std::vector<PrunableLayer> layers;
  for (const auto& named : module.named_modules()) {
    const auto& m = named.value;
    if (!m.hasattr("weight")) continue;
    auto w = m.attr("weight");
    if (!w.isTensor() || w.toTensor().dim() < 2 || !w.toTensor().is_floating_point()) continue;
    bool is_parameter = false;
    for (const auto& p : m.named_parameters(false))
      if (p.name == "weight") is_parameter = true;
    if (!is_parameter) continue;
    std::string kind = prunable_kind(m, w.toTensor());
    if (!kind.empty()) layers.push_back({named.name, kind, m});
  }
  return layers;
}

std::vector<PrunableLayer> select_layers(const torch::jit::Module& module, const std::vector<std::string>& patterns) {
  auto all = prunable_layers(module);
  if (all.empty()) fail("the model has no prunable layer (no convolution or linear layer with a weight parameter)");
  for (const auto& pattern : patterns) {
    bool hit = false;
    for (const auto& l : all) hit = hit || glob_match(pattern, l.path);
    if (!hit) {
      std::string names;
      for (size_t i = 0; i < all.size() && i < 8; ++i) names += (i ? ", " : "") + all[i].path;
      if (all.size() > 8) names += ", ...";
      fail("--layers '{}' matches no prunable layer (layers: {})", pattern, names);
    }
  }
  std::vector<PrunableLayer> selected;
  for (auto& l : all)
    if (matches_any(patterns, l.path)) selected.push_back(l);
  return selected;
}

}  // namespace mlopt::pruning
