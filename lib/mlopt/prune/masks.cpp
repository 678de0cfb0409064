#include "mlopt/prune/masks.h"

#include <cmath>

namespace mlopt::pruning {

namespace {
at::Tensor weight_of(const PrunableLayer& layer) { return layer.module.attr("weight").toTensor(); }

torch::jit::Module submodule(torch::jit::Module& module, const std::string& path) {
  torch::jit::Module m = module;
  size_t start = 0;
  while (!path.empty() && start <= path.size()) {
    size_t dot = path.find('.', start);
    m = m.attr(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start)).toModule();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return m;
}

// A 0/1 mask over `n` flat elements with the `k` positions of smallest `scores` at 0.
at::Tensor mask_smallest(const at::Tensor& scores, int64_t k) {
  auto mask = at::ones({scores.numel()}, at::kFloat);
  if (k == 0) return mask;
  // A stable sort makes ties (many zeros, say) resolve the same way every run.
  auto order = std::get<1>(scores.reshape(-1).to(at::kDouble).sort(/*stable=*/true, 0, false));
  mask.index_fill_(0, order.slice(0, 0, k), 0.0);
  return mask;
}
}  // namespace

int64_t pruned_count(int64_t n, double amount) {
  return std::min<int64_t>(n, static_cast<int64_t>(std::llround(amount * static_cast<double>(n))));
}

std::vector<WeightMask> l1_unstructured_masks(const std::vector<PrunableLayer>& layers, double amount) {
  torch::NoGradGuard no_grad;
  std::vector<WeightMask> masks;
  for (const auto& layer : layers) {
    auto w = weight_of(layer);
    masks.push_back({layer.path, mask_smallest(w.abs(), pruned_count(w.numel(), amount)).view(w.sizes())});
  }
  return masks;
}

std::vector<WeightMask> global_unstructured_masks(const std::vector<PrunableLayer>& layers, double amount) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> flat;
  for (const auto& layer : layers) flat.push_back(weight_of(layer).abs().reshape(-1).to(at::kDouble));
  auto all = at::cat(flat);
  auto mask = mask_smallest(all, pruned_count(all.numel(), amount));
  std::vector<WeightMask> masks;
  int64_t offset = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    auto w = weight_of(layers[i]);
    masks.push_back({layers[i].path, mask.slice(0, offset, offset + w.numel()).view(w.sizes()).clone()});
    offset += w.numel();
  }
  return masks;
}

std::vector<WeightMask> ln_structured_masks(const std::vector<PrunableLayer>& layers, double amount, int norm) {
  torch::NoGradGuard no_grad;
  std::vector<WeightMask> masks;
  for (const auto& layer : layers) {
    auto w = weight_of(layer);
    auto norms = w.reshape({w.size(0), -1}).to(at::kDouble).norm(norm, {1});
    auto channel_mask = mask_smallest(norms, pruned_count(w.size(0), amount));
    std::vector<int64_t> shape(w.dim(), 1);
    shape[0] = w.size(0);
    masks.push_back({layer.path, channel_mask.view(shape).expand(w.sizes()).contiguous()});
  }
  return masks;
}

void apply_masks(torch::jit::Module& module, const std::vector<WeightMask>& masks) {
  torch::NoGradGuard no_grad;
  for (const auto& m : masks) {
    auto w = submodule(module, m.path).attr("weight").toTensor();
    w.mul_(m.mask.to(w.scalar_type()));
  }
}

}  // namespace mlopt::pruning
