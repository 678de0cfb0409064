#include "mlopt/prune/attention_heads.h"

#include <torch/csrc/jit/ir/ir.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "mlopt/core/error.h"
#include "mlopt/prune/graph_prep.h"
#include "mlopt/prune/layer_select.h"
#include "mlopt/prune/masks.h"
#include "mlopt/graph_passes/transformer_lowering.h"

namespace mlopt::pruning {

namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Module;
using torch::jit::Node;
using torch::jit::Value;

// nn.MultiheadAttention with q, k, v packed in one in_proj_weight (separate
// q/k/v weights, kdim/vdim != embed_dim, leave in_proj_weight None).
bool is_packed_attention(const Module& m) {
  return m.hasattr("in_proj_weight") && m.attr("in_proj_weight").isTensor() && m.hasattr("num_heads") &&
         m.attr("num_heads").isInt() && m.hasattr("embed_dim") && m.attr("embed_dim").isInt() &&
         m.hasattr("out_proj") && m.attr("out_proj").isModule();
}

// Per-head Ln norm of its q, k, v rows and out_proj columns.
std::vector<double> head_scores(const at::Tensor& in_w, const at::Tensor& out_w, int64_t heads, int norm) {
  int64_t inner = in_w.size(0) / 3, d = inner / heads, width = in_w.size(1);
  auto rows = in_w.detach().to(at::kDouble).view({3, heads, d, width}).transpose(0, 1).reshape({heads, -1});
  auto cols = out_w.detach().to(at::kDouble).view({out_w.size(0), heads, d}).transpose(0, 1).reshape({heads, -1});
  auto norms = at::cat({rows, cols}, 1).norm(norm, {1}).contiguous();
  return {norms.data_ptr<double>(), norms.data_ptr<double>() + heads};
}

std::vector<int64_t> strongest(const std::vector<double>& scores, int64_t keep) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  order.resize(keep);
  std::sort(order.begin(), order.end());
  return order;
}

// Indices of the kept heads' features in `parts` stacked blocks of heads * d.
at::Tensor head_index(const std::vector<int64_t>& kept, int64_t heads, int64_t d, int64_t parts) {
  std::vector<int64_t> index;
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t h : kept)
      for (int64_t j = 0; j < d; ++j) index.push_back((p * heads + h) * d + j);
  return at::tensor(index, at::kLong);
}

void slice_attr(Module& m, const std::string& name, int64_t dim, const at::Tensor& index) {
  if (!m.hasattr(name) || !m.attr(name).isTensor()) return;
  at::Tensor current = m.attr(name).toTensor();
  at::Tensor smaller = current.index_select(dim, index).contiguous();
  smaller.set_requires_grad(current.requires_grad());
  m.setattr(name, smaller);
}

void for_each_node(Block* block, const std::function<void(Node*)>& f) {
  for (Node* node : block->nodes()) {
    for (Block* sub : node->blocks()) for_each_node(sub, f);
    f(node);
  }
}

// `tgt_len, bsz, embed_dim = query.shape` feeds `head_dim = embed_dim // num_heads`:
// that width becomes the pruned inner width. Returns how many places were patched.
int patch_inner_width(Graph& graph, const std::string& attention, int64_t inner) {
  std::vector<Value*> widths;
  for_each_node(graph.block(), [&](Node* node) {
    if (node->kind() != c10::prim::GetAttr || attribute_path(node->output()) != attention + ".num_heads") return;
    for (const auto& use : node->output()->uses()) {
      if (use.user->kind() != c10::aten::floordiv || use.offset != 1) continue;
      Value* width = use.user->input(0);
      Node* unpack = width->node();
      if (unpack->kind() == c10::prim::ListUnpack && unpack->input(0)->node()->kind() == c10::aten::size)
        widths.push_back(width);
    }
  });
  for (Value* width : widths) {
    torch::jit::WithInsertPoint guard(width->node()->next());
    width->replaceAllUsesWith(graph.insertConstant(inner));
  }
  return static_cast<int>(widths.size());
}

HeadPruneReport prune_heads(Graph& graph, const std::string& path, Module attention, double amount, int norm) {
  HeadPruneReport r;
  r.attention = path;
  r.heads_before = attention.attr("num_heads").toInt();
  at::Tensor in_w = attention.attr("in_proj_weight").toTensor();
  at::Tensor out_w = attention.attr("out_proj").toModule().attr("weight").toTensor();
  int64_t inner = in_w.size(0) / 3;
  r.head_dim = inner / std::max<int64_t>(1, r.heads_before);
  r.heads_after = r.heads_before;
  if (r.heads_before < 1 || inner % r.heads_before != 0 || in_w.size(0) != 3 * inner || out_w.dim() != 2 ||
      out_w.size(1) != inner) {
    r.reason = "in_proj_weight / out_proj.weight do not match num_heads";
    return r;
  }
  int64_t remove = std::min(r.heads_before - 1, pruned_count(r.heads_before, amount));
  r.kept.resize(r.heads_before);
  std::iota(r.kept.begin(), r.kept.end(), 0);
  if (remove <= 0) return r;
  auto kept = strongest(head_scores(in_w, out_w, r.heads_before, norm), r.heads_before - remove);
  int64_t pruned_inner = static_cast<int64_t>(kept.size()) * r.head_dim;
  if (patch_inner_width(graph, path, pruned_inner) == 0) {
    r.reason = "its forward does not read the width as F.multi_head_attention_forward does";
    return r;
  }
  r.kept = kept;
  r.heads_after = static_cast<int64_t>(kept.size());
  torch::NoGradGuard no_grad;
  auto rows = head_index(r.kept, r.heads_before, r.head_dim, 3);
  auto cols = head_index(r.kept, r.heads_before, r.head_dim, 1);
  slice_attr(attention, "in_proj_weight", 0, rows);
  slice_attr(attention, "in_proj_bias", 0, rows);
  slice_attr(attention, "bias_k", 2, cols);
  slice_attr(attention, "bias_v", 2, cols);
  Module out_proj = attention.attr("out_proj").toModule();
  slice_attr(out_proj, "weight", 1, cols);
  attention.setattr("num_heads", r.heads_after);
  attention.setattr("embed_dim", pruned_inner);
  return r;
}

// A use that takes part of the weight (rows by the model width). Metadata
// queries (requires_grad, device) and the whole-weight projection are fine.
bool reads_part(const torch::jit::Use& use) {
  static const std::set<std::string> parts = {"aten::split", "aten::split_with_sizes", "aten::unsafe_split",
                                              "aten::chunk", "aten::unsafe_chunk", "aten::slice",
                                              "aten::narrow", "aten::select", "aten::index_select"};
  return parts.count(use.user->kind().toQualString()) > 0;
}

}  // namespace

std::vector<HeadPruneReport> prune_attention_heads(Module& module, Graph& graph, double amount, int norm,
                                                   const std::vector<std::string>& patterns,
                                                   const std::set<std::string>& split) {
  std::vector<HeadPruneReport> reports;
  std::set<const void*> seen;  // a module reachable by two paths is pruned once
  for (const auto& named : module.named_modules()) {
    if (named.name.empty() || !is_packed_attention(named.value)) continue;
    if (!seen.insert(named.value._ivalue().get()).second) continue;
    bool selected = matches_any(patterns, named.name) || matches_any(patterns, named.name + ".out_proj");
    if (!selected) continue;
    if (split.count(named.name)) {
      HeadPruneReport r;
      r.attention = named.name;
      r.heads_before = r.heads_after = named.value.attr("num_heads").toInt();
      r.head_dim = named.value.attr("in_proj_weight").toTensor().size(0) / 3 / std::max<int64_t>(1, r.heads_before);
      r.reason = "cross-attention: its in-projection is split by the model width";
      reports.push_back(r);
      continue;
    }
    reports.push_back(prune_heads(graph, named.name, named.value, amount, norm));
  }
  return reports;
}

std::set<std::string> split_in_projections(const std::shared_ptr<Graph>& graph) {
  std::set<std::string> split;
  for_each_node(graph->block(), [&](Node* node) {
    if (node->kind() != c10::prim::GetAttr) return;
    auto path = attribute_path(node->output());
    const std::string suffix = ".in_proj_weight";
    if (!path || path->size() <= suffix.size() || path->compare(path->size() - suffix.size(), suffix.size(), suffix) != 0)
      return;
    for (const auto& use : node->output()->uses())
      if (reads_part(use)) split.insert(path->substr(0, path->size() - suffix.size()));
  });
  return split;
}

void check_pruned_attention(const std::shared_ptr<Graph>& graph, const std::vector<HeadPruneReport>& heads) {
  if (graph_passes::calls_fused_transformer(graph))
    fail("--method channel: the model still calls a fused transformer kernel after lowering its fast paths");
  for (const auto& h : heads) {
    if (h.heads_after == h.heads_before) continue;
    for_each_node(graph->block(), [&](Node* node) {
      if (node->kind() != c10::prim::GetAttr || attribute_path(node->output()) != h.attention + ".in_proj_weight")
        return;
      for (const auto& use : node->output()->uses())
        if (reads_part(use))
          fail("--method channel: removed heads of '{}' but its in-projection is read in parts by {}", h.attention,
               use.user->kind().toQualString());
    });
  }
}

}  // namespace mlopt::pruning
