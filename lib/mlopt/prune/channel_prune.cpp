#include "mlopt/prune/channel_prune.h"

#include <algorithm>
#include <numeric>
#include <set>

#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/prune/channel_graph.h"
#include "mlopt/prune/graph_prep.h"
#include "mlopt/prune/layer_select.h"
#include "mlopt/prune/masks.h"
#include "mlopt/graph_passes/transformer_lowering.h"

namespace mlopt::pruning {

namespace {

std::pair<torch::jit::Module, std::string> owner_of(torch::jit::Module& module, const std::string& path) {
  torch::jit::Module m = module;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) return {m, path.substr(start)};
    m = m.attr(path.substr(start, dot - start)).toModule();
    start = dot + 1;
  }
}

at::Tensor read_tensor(torch::jit::Module& module, const std::string& path) {
  auto [owner, name] = owner_of(module, path);
  return owner.attr(name).toTensor();
}

// Per-channel importance of each root space: summed Ln norms of its producers' weights.
std::map<int, std::vector<double>> channel_importance(ChannelGraph& graph, int norm) {
  std::map<int, std::vector<double>> importance;
  for (const auto& slice : graph.slices()) {
    if (!slice.scores) continue;
    auto w = read_tensor(graph.module(), slice.path).detach().to(at::kDouble);
    auto norms = w.transpose(0, slice.dim).reshape({w.size(slice.dim), -1}).norm(norm, {1});
    auto values = norms.contiguous();
    const double* data = values.data_ptr<double>();
    int64_t offset = 0;
    for (const auto& segment : slice.layout.segments) {
      int root = graph.find(segment.space);
      auto& scores = importance[root];
      scores.resize(graph.space(root).length, 0.0);
      for (int64_t c = 0; c < segment.length; ++c) scores[c] += data[offset + c];
      offset += segment.length;
    }
  }
  return importance;
}

// Kept channel indices (ascending) of each root space.
std::map<int, std::vector<int64_t>> choose_channels(ChannelGraph& graph, double amount, int norm,
                                                    const std::vector<std::string>& patterns) {
  auto importance = channel_importance(graph, norm);
  std::map<int, std::vector<int64_t>> keep;
  for (size_t id = 0; id < graph.space_count(); ++id) {
    int root = graph.find(static_cast<int>(id));
    if (keep.count(root)) continue;
    Space& space = graph.space(root);
    std::vector<int64_t> all(space.length);
    std::iota(all.begin(), all.end(), 0);
    bool selected = false;
    for (const auto& p : space.producers) selected = selected || matches_any(patterns, p);
    int64_t remove = std::min(space.length - 1, pruned_count(space.length, amount));
    if (space.locked || !selected || remove <= 0 || !importance.count(root)) {
      keep[root] = all;
      continue;
    }
    const auto& scores = importance[root];
    std::stable_sort(all.begin(), all.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
    all.resize(space.length - remove);
    std::sort(all.begin(), all.end());
    keep[root] = all;
  }
  return keep;
}

// Indices along a parameter's dim that survive, for a layout.
std::vector<int64_t> kept_indices(ChannelGraph& graph, const Layout& layout,
                                  const std::map<int, std::vector<int64_t>>& keep) {
  std::vector<int64_t> indices;
  int64_t offset = 0;
  for (const auto& segment : layout.segments) {
    for (int64_t k : keep.at(graph.find(segment.space)))
      for (int64_t r = 0; r < layout.repeat; ++r) indices.push_back((offset + k) * layout.repeat + r);
    offset += segment.length;
  }
  return indices;
}

void slice_parameters(ChannelGraph& graph, const std::map<int, std::vector<int64_t>>& keep) {
  torch::NoGradGuard no_grad;
  for (const auto& slice : graph.slices()) {
    auto [owner, name] = owner_of(graph.module(), slice.path);
    at::Tensor current = owner.attr(name).toTensor();
    int64_t expected = slice.layout.channels() * slice.layout.repeat;
    if (current.size(slice.dim) != expected)
      fail("channel pruning: '{}' has {} entries along dim {} but its inputs carry {} channels", slice.path,
           current.size(slice.dim), slice.dim, expected);
    auto indices = kept_indices(graph, slice.layout, keep);
    if (static_cast<int64_t>(indices.size()) == expected) continue;
    auto index = at::tensor(indices, at::kLong);
    at::Tensor smaller = current.index_select(slice.dim, index).contiguous();
    smaller.set_requires_grad(current.requires_grad());
    owner.setattr(name, smaller);
  }
}

void fix_constants(ChannelGraph& graph, const std::map<int, std::vector<int64_t>>& keep) {
  for (const auto& fix : graph.fixes()) {
    int64_t value = static_cast<int64_t>(kept_indices(graph, fix.layout, keep).size());
    torch::jit::WithInsertPoint guard(fix.node);
    auto* constant = graph.graph().insertConstant(value);
    fix.node->replaceInput(fix.index, constant);
  }
}

ChannelPruneReport report_groups(ChannelGraph& graph, const std::map<int, std::vector<int64_t>>& keep) {
  ChannelPruneReport report;
  for (const auto& [root, kept] : keep) {
    Space& space = graph.space(root);
    if (space.producers.empty()) continue;  // model inputs concatenated with features
    ChannelGroupReport g;
    g.layers = space.layers;
    g.channels_before = space.length;
    g.channels_after = static_cast<int64_t>(kept.size());
    g.pruned = g.channels_after < g.channels_before;
    g.reason = space.locked ? space.lock_reason : "";
    report.groups.push_back(std::move(g));
  }
  return report;
}

// Heads go first, on the inlined graph whose attribute reads still name their modules.
std::vector<HeadPruneReport> remove_heads(torch::jit::Module& module, double head_amount, int norm,
                                          const std::vector<std::string>& patterns) {
  auto forward = with_context("reading the model's forward graph", [&] { return module.get_method("forward").graph(); });
  torch::jit::Inline(*forward);
  std::set<std::string> split;
  if (head_amount > 0) {  // which attention is cross-attention shows once its fast path is lowered: on a copy
    auto lowered = forward->copy();
    fold_forward(module, lowered);
    if (graph_passes::calls_fused_transformer(lowered)) graph_passes::lower_transformer_fast_paths(lowered);
    split = split_in_projections(lowered);
  }
  return prune_attention_heads(module, *forward, head_amount, norm, patterns, split);
}

}  // namespace

ChannelPruneReport prune_channels(torch::jit::Module& module, const std::vector<at::Tensor>& inputs, double amount,
                                  int norm, const std::vector<std::string>& patterns, double head_amount) {
  auto heads = remove_heads(module, head_amount, norm, patterns);
  auto graph = with_context("preparing the forward graph", [&] { return inline_and_fold_forward(module); });
  if (graph_passes::calls_fused_transformer(graph)) graph_passes::lower_transformer_fast_paths(graph);
  check_pruned_attention(graph, heads);
  auto shapes = probe_shapes(module, graph, inputs);
  ChannelGraph channels(module, graph, std::move(shapes));
  analyze_channels(channels);
  auto keep = choose_channels(channels, amount, norm, patterns);
  slice_parameters(channels, keep);
  fix_constants(channels, keep);
  torch::jit::EliminateDeadCode(graph);
  separate_linear_inputs_from_ifs(*graph);
  auto report = report_groups(channels, keep);
  report.attention = std::move(heads);
  return report;
}

}  // namespace mlopt::pruning
