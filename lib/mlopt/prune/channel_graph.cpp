#include "mlopt/prune/channel_graph.h"

#include <fmt/format.h>

#include "mlopt/prune/channel_rules.h"

namespace mlopt::pruning {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

int64_t Layout::channels() const {
  int64_t n = 0;
  for (const auto& s : segments) n += s.length;
  return n;
}

int ChannelGraph::new_space(int64_t length, const std::string& producer) {
  Space s;
  s.length = length;
  s.parent = static_cast<int>(spaces_.size());
  if (!producer.empty()) {
    s.producers.push_back(producer);
    s.layers.push_back(producer);
  }
  spaces_.push_back(std::move(s));
  return spaces_.back().parent;
}

int ChannelGraph::find(int id) {
  while (spaces_[id].parent != id) {
    spaces_[id].parent = spaces_[spaces_[id].parent].parent;
    id = spaces_[id].parent;
  }
  return id;
}

void ChannelGraph::unite(int a, int b) {
  a = find(a);
  b = find(b);
  if (a == b) return;
  Space& into = spaces_[a];
  Space& from = spaces_[b];
  from.parent = a;
  if (from.locked && !into.locked) {
    into.locked = true;
    into.lock_reason = from.lock_reason;
  }
  into.selected = into.selected || from.selected;
  into.producers.insert(into.producers.end(), from.producers.begin(), from.producers.end());
  into.layers.insert(into.layers.end(), from.layers.begin(), from.layers.end());
}

const Layout* ChannelGraph::layout(const Value* v) const {
  auto it = layouts_.find(v);
  return it == layouts_.end() ? nullptr : &it->second;
}

std::vector<int64_t> ChannelGraph::shape(const Value* v) const {
  auto it = shapes_.find(v);
  return it == shapes_.end() ? std::vector<int64_t>{} : it->second;
}

void ChannelGraph::lock(const Layout& layout, const std::string& reason) {
  for (const auto& segment : layout.segments) {
    Space& s = space(segment.space);
    if (!s.locked) {
      s.locked = true;
      s.lock_reason = reason;
    }
  }
}

void ChannelGraph::lock_value(const Value* v, const std::string& reason) {
  if (const Layout* l = layout(v)) lock(*l, reason);
}

bool ChannelGraph::unite_layouts(const Layout& a, const Layout& b) {
  if (a.segments.size() != b.segments.size() || a.repeat != b.repeat) return false;
  for (size_t i = 0; i < a.segments.size(); ++i)
    if (a.segments[i].length != b.segments[i].length) return false;
  for (size_t i = 0; i < a.segments.size(); ++i) unite(a.segments[i].space, b.segments[i].space);
  return true;
}

void ChannelGraph::note_layer(const Layout& layout, const std::string& module_path) {
  for (const auto& segment : layout.segments) {
    auto& layers = space(segment.space).layers;
    if (std::find(layers.begin(), layers.end(), module_path) == layers.end()) layers.push_back(module_path);
  }
}

namespace {

bool is_size_query(const Node* node) {
  auto kind = node->kind();
  return kind == c10::aten::size || kind == c10::aten::dim || kind == c10::aten::len;
}

// Values used inside If/Loop blocks: size queries are harmless (they see the
// pruned size at run time); anything else couples channels in ways not followed.
void lock_uses_in_blocks(Block* block, ChannelGraph& graph) {
  for (Node* node : block->nodes()) {
    for (Block* sub : node->blocks()) lock_uses_in_blocks(sub, graph);
    if (is_size_query(node)) continue;
    for (Value* input : node->inputs())
      graph.lock_value(input, fmt::format("used inside control flow by {}", node->kind().toQualString()));
  }
  for (Value* output : block->outputs()) graph.lock_value(output, "returned from a control-flow block");
}

bool is_weighted_layer(const Node* node) {
  auto kind = node->kind();
  return kind == c10::aten::conv1d || kind == c10::aten::conv2d || kind == c10::aten::conv3d ||
         kind == c10::aten::_convolution || kind == c10::aten::linear;
}

}  // namespace

void analyze_channels(ChannelGraph& graph) {
  Block* top = graph.graph().block();
  // A weight read by two layers (tied weights) cannot be sliced for one of them alone.
  for (Node* node : top->nodes()) {
    if (node->inputs().size() < 2 || !is_weighted_layer(node)) continue;
    if (auto param = parameter_of(node->input(1))) graph.count_weight_use(param->first + "." + param->second);
  }
  for (Node* node : top->nodes()) {
    for (Block* sub : node->blocks()) lock_uses_in_blocks(sub, graph);
    if (node->blocks().size() > 0) {
      for (Value* input : node->inputs())
        graph.lock_value(input, fmt::format("passed to {}", node->kind().toQualString()));
      continue;
    }
    std::string op = node->kind().toQualString();
    if (const ChannelRule* rule = find_channel_rule(op)) {
      (*rule)(node, graph);
      continue;
    }
    lock_inputs(node, graph, fmt::format("reaches {}, which has no channel rule", op));
  }
  for (Value* output : graph.graph().outputs()) graph.lock_value(output, "feeds a model output");
}

}  // namespace mlopt::pruning
