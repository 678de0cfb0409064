// Ops that move channels: concatenation (channels of several spaces side by
// side), flatten / view / reshape (each channel becomes a run of features that
// a following Linear reads), reductions over other dims; and size queries,
// which are harmless because they see the pruned size at run time.
#include <algorithm>
#include <numeric>

#include "mlopt/prune/channel_rules.h"

namespace mlopt::pruning {
namespace {

int64_t product(const std::vector<int64_t>& v, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < v.size(); ++i) p *= v[i];
  return p;
}

void ignore_rule(torch::jit::Node*, ChannelGraph&) {}
MLOPT_CHANNEL_RULE({"aten::size", "aten::dim", "aten::len"}, ignore_rule);

// A list is read by aten::cat, and may grow by aten::append in the same block
// first (DenseNet: `features.append(layer(features))`, each layer concatenating
// what the list holds then); any other use locks.
bool cat_or_append_only(torch::jit::Node* list) {
  for (const auto& use : list->output()->uses()) {
    auto kind = use.user->kind();
    if (kind == c10::aten::cat) continue;
    if (kind == c10::aten::append && use.offset == 0 && use.user->owningBlock() == list->owningBlock()) continue;
    return false;
  }
  return true;
}

void list_rule(torch::jit::Node* node, ChannelGraph& graph) {
  for (const auto& use : node->output()->uses()) {
    auto kind = use.user->kind();
    if (kind == c10::aten::cat || kind == c10::aten::append) continue;
    lock_inputs(node, graph, fmt::format("put in a list read by {}", kind.toQualString()));
    return;
  }
}
MLOPT_CHANNEL_RULE({"prim::ListConstruct"}, list_rule);

// The tensors `list` holds where `reader` reads it: its ListConstruct's, then
// the ones appended before `reader`, in order. Empty when the list is used
// any other way.
std::vector<torch::jit::Value*> list_elements(torch::jit::Node* list, torch::jit::Node* reader) {
  if (!cat_or_append_only(list)) return {};
  std::vector<torch::jit::Value*> out(list->inputs().begin(), list->inputs().end());
  std::vector<torch::jit::Node*> appends;
  for (const auto& use : list->output()->uses())  // the appends sit in the list's block; isBefore sees into a nested reader's
    if (use.user->kind() == c10::aten::append && use.user->isBefore(reader)) appends.push_back(use.user);
  std::sort(appends.begin(), appends.end(), [](auto* a, auto* b) { return a->isBefore(b); });
  for (auto* a : appends) out.push_back(a->input(1));
  return out;
}

// An appended tensor: its channels are followed where the list is concatenated.
void append_rule(torch::jit::Node* node, ChannelGraph& graph) {
  auto* list = node->input(0)->node();
  if (list->kind() != c10::prim::ListConstruct || !cat_or_append_only(list))
    graph.lock_value(node->input(1), "appended to a list used other than by aten::cat");
}
MLOPT_CHANNEL_RULE({"aten::append"}, append_rule);

void lock_elements(const std::vector<torch::jit::Value*>& elements, ChannelGraph& graph, const std::string& reason) {
  for (auto* v : elements) graph.lock_value(v, reason);
}

void cat_rule(torch::jit::Node* node, ChannelGraph& graph) {
  auto* list = node->input(0)->node();
  auto out_shape = graph.shape(node->output());
  auto dim = constant_int(node->input(1));
  if (list->kind() != c10::prim::ListConstruct) return;
  auto elements = list_elements(list, node);
  if (elements.empty()) {
    lock_inputs(list, graph, "concatenation of a list used other ways too");
    return;
  }
  if (out_shape.empty() || !dim) {
    lock_elements(elements, graph, "concatenation along an unknown dim");
    return;
  }
  int64_t rank = static_cast<int64_t>(out_shape.size());
  int64_t d = *dim < 0 ? *dim + rank : *dim;
  bool any = false;
  for (auto* v : elements) any = any || graph.layout(v);
  if (!any) return;
  Layout out;
  out.rank = rank;
  out.dim = 1;
  if (d == 1) {
    // Channels side by side; an input without a producer keeps its channels (a locked space).
    for (auto* v : elements) {
      const Layout* l = graph.layout(v);
      if (l && (l->dim != 1 || l->repeat != 1)) {
        lock_elements(elements, graph, "concatenation of tensors whose channels do not line up");
        return;
      }
      if (!l) {
        auto shape = graph.shape(v);
        if (shape.size() < 2) {
          lock_elements(elements, graph, "concatenation with a tensor of unknown shape");
          return;
        }
        int space = graph.new_space(shape[1], "");
        graph.space(space).locked = true;
        graph.space(space).lock_reason = "model input";
        out.segments.push_back({space, shape[1]});
        continue;
      }
      out.segments.insert(out.segments.end(), l->segments.begin(), l->segments.end());
    }
    graph.set_layout(node->output(), out);
    return;
  }
  // Along another dim: every input must carry the same channels.
  const Layout* first = graph.layout(elements.front());
  for (auto* v : elements) {
    const Layout* l = graph.layout(v);
    if (!first || !l || l->dim != first->dim || !graph.unite_layouts(*first, *l)) {
      lock_elements(elements, graph, "concatenation of tensors whose channels do not line up");
      return;
    }
  }
  graph.set_layout(node->output(), *first);
}
MLOPT_CHANNEL_RULE({"aten::cat"}, cat_rule);

// [N, C, H, W] -> [N, C*H*W]: channel c becomes features c*H*W .. (c+1)*H*W-1.
bool set_flattened(torch::jit::Node* node, ChannelGraph& graph, const Layout& in, const std::vector<int64_t>& in_shape) {
  if (in.dim != 1 || in.repeat != 1 || in_shape.size() < 2) return false;
  Layout out = in;
  out.rank = 2;
  out.repeat = product(in_shape, 2, in_shape.size());
  graph.set_layout(node->output(), out);
  return true;
}

// aten::flatten(x, start_dim, end_dim)
void flatten_rule(torch::jit::Node* node, ChannelGraph& graph) {
  const Layout* in = graph.layout(node->input(0));
  if (!in) return;
  auto in_shape = graph.shape(node->input(0));
  auto out_shape = graph.shape(node->output());
  auto start = constant_int(node->input(1));
  int64_t rank = static_cast<int64_t>(in_shape.size());
  if (!start || in_shape.empty() || out_shape.empty()) {
    lock_inputs(node, graph, "flatten of unknown dims");
    return;
  }
  int64_t s = *start < 0 ? *start + rank : *start;
  if (s == 1 && out_shape.size() == 2 && set_flattened(node, graph, *in, in_shape)) return;
  if (s > in->dim) {
    Layout out = *in;
    out.rank = static_cast<int64_t>(out_shape.size());
    graph.set_layout(node->output(), out);
    return;
  }
  lock_inputs(node, graph, "flatten that merges the channels with other dims");
}
MLOPT_CHANNEL_RULE({"aten::flatten"}, flatten_rule);

// view / reshape to [N, C*H*W] (flatten) or [N, C, ...] (channels kept).
// A constant size naming the channel count is rewritten after pruning.
void reshape_rule(torch::jit::Node* node, ChannelGraph& graph) {
  const Layout* in = graph.layout(node->input(0));
  if (!in) return;
  auto in_shape = graph.shape(node->input(0));
  auto out_shape = graph.shape(node->output());
  auto* sizes = node->input(1)->node();
  bool ok = in->dim == 1 && in->repeat == 1 && in_shape.size() >= 2 && out_shape.size() >= 2 &&
            out_shape[0] == in_shape[0] && sizes->kind() == c10::prim::ListConstruct;
  if (ok && out_shape.size() == 2 && out_shape[1] == product(in_shape, 1, in_shape.size())) {
    set_flattened(node, graph, *in, in_shape);
  } else if (ok && out_shape[1] == in_shape[1]) {
    Layout out = *in;
    out.rank = static_cast<int64_t>(out_shape.size());
    graph.set_layout(node->output(), out);
  } else {
    lock_inputs(node, graph, fmt::format("{} that moves the channels", node->kind().toQualString()));
    return;
  }
  const Layout* out = graph.layout(node->output());
  if (auto c = constant_int(sizes->input(1)); c && *c != -1) graph.add_constant_fix({sizes, 1, *out});
}
MLOPT_CHANNEL_RULE({"aten::view", "aten::reshape"}, reshape_rule);

// mean / sum / amax over dims other than the channels.
void reduce_rule(torch::jit::Node* node, ChannelGraph& graph) {
  const Layout* in = graph.layout(node->input(0));
  if (!in) return;
  auto dims = node->inputs().size() > 1 ? constant_int_list(node->input(1)) : std::nullopt;
  auto out_shape = graph.shape(node->output());
  if (!dims || out_shape.empty() || in->repeat != 1) {
    lock_inputs(node, graph, fmt::format("{} over unknown dims", node->kind().toQualString()));
    return;
  }
  int64_t removed_before = 0;
  for (int64_t d : *dims) {
    int64_t dd = d < 0 ? d + in->rank : d;
    if (dd == in->dim) {
      lock_inputs(node, graph, fmt::format("{} over the channels", node->kind().toQualString()));
      return;
    }
    if (dd < in->dim) ++removed_before;
  }
  Layout out = *in;
  out.rank = static_cast<int64_t>(out_shape.size());
  if (out.rank < in->rank) out.dim -= removed_before;
  graph.set_layout(node->output(), out);
}
MLOPT_CHANNEL_RULE({"aten::mean", "aten::sum", "aten::amax", "aten::amin"}, reduce_rule);

}  // namespace
}  // namespace mlopt::pruning
