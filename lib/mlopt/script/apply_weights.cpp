#include "mlopt/script/apply_weights.h"

#include <map>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/shape_text.h"
#include "mlopt/core/weights_file.h"

namespace mlopt::script {

namespace {


// nn.DataParallel and DistributedDataParallel save every key as
// "module.<name>": when all keys carry the prefix and the model has none of
// them, the prefix goes (and the user is told).
void strip_data_parallel_prefix(NamedTensors& weights, const std::map<std::string, at::Tensor>& slots,
                                const std::string& weights_path) {
  static const std::string prefix = "module.";
  if (weights.empty()) return;
  for (const auto& [name, tensor] : weights)
    if (name.rfind(prefix, 0) != 0 || slots.count(name)) return;
  for (auto& [name, tensor] : weights) name.erase(0, prefix.size());
  mlopt::log::info("weights: removed the '{}' prefix (nn.DataParallel) from the {} entries of '{}'", prefix, weights.size(),
            weights_path);
}
}  // namespace

void apply_weights(torch::jit::Module& module, const std::string& weights_path, const std::string& key, bool strict) {
  NamedTensors weights = load_weights(weights_path, key);
  std::map<std::string, at::Tensor> slots;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) slots.emplace(p.name, p.value);
  for (const auto& b : module.named_buffers(/*recurse=*/true)) slots.emplace(b.name, b.value);
  strip_data_parallel_prefix(weights, slots, weights_path);
  std::vector<std::string> problems, missing, unexpected, left;
  std::map<std::string, bool> seen;
  for (const auto& [name, tensor] : weights) {
    auto it = slots.find(name);
    if (it == slots.end()) {
      (strict ? problems : unexpected).push_back(strict ? "unexpected '" + name + "'" : name);
      continue;
    }
    seen[name] = true;
    const at::Tensor& slot = it->second;
    if (!slot.sizes().equals(tensor.sizes()))
      problems.push_back(fmt::format("'{}' has shape {}, the model expects {}", name, sizes_text(tensor.sizes().vec()), sizes_text(slot.sizes().vec())));
    else if (slot.scalar_type() != tensor.scalar_type())
      problems.push_back(fmt::format("'{}' has dtype {}, the model expects {}", name, c10::toString(tensor.scalar_type()),
                                     c10::toString(slot.scalar_type())));
  }
  for (const auto& [name, slot] : slots)
    if (!seen.count(name)) {
      if (strict) missing.push_back("missing '" + name + "'");
      else left.push_back(name);
    }
  problems.insert(problems.begin(), missing.begin(), missing.end());
  if (!problems.empty())
    fail("'{}' does not match the model ({} problem{}): {}", weights_path, problems.size(), problems.size() == 1 ? "" : "s",
         fmt::format("{}", fmt::join(problems, "; ")));
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : weights)
    if (slots.count(name)) slots.at(name).copy_(tensor);
  if (!left.empty())
    mlopt::log::warn("weights: {} of {} entries of the model stayed at their initialization (not in '{}'): {}", left.size(),
                     slots.size(), weights_path, fmt::format("{}", fmt::join(left, ", ")));
  if (!unexpected.empty())
    mlopt::log::warn("weights: {} entries of '{}' were ignored (the model has no such parameter or buffer): {}",
                     unexpected.size(), weights_path, fmt::format("{}", fmt::join(unexpected, ", ")));
}

}  // namespace mlopt::script
