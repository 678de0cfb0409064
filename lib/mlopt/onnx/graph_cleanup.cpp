#include "mlopt/onnx/graph_cleanup.h"

#include <unordered_set>

namespace mlopt::onnx_export {
namespace {

// Every name a graph reads from outside its own nodes' outputs, subgraphs included.
void collect_uses(const onnx::GraphProto& g, std::unordered_set<std::string>& used) {
  for (const auto& n : g.node()) {
    for (const auto& i : n.input())
      if (!i.empty()) used.insert(i);
    for (const auto& a : n.attribute()) {
      if (a.has_g()) collect_uses(a.g(), used);
      for (const auto& sg : a.graphs()) collect_uses(sg, used);
    }
  }
  for (const auto& o : g.output()) used.insert(o.name());
}

int remove_dead_in(onnx::GraphProto& g, const std::unordered_set<std::string>& outer_used) {
  int removed = 0;
  // Subgraphs first: their dead nodes may keep outer values alive.
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute())
      if (a.has_g()) removed += remove_dead_in(*a.mutable_g(), {});
  bool changed = true;
  while (changed) {
    changed = false;
    std::unordered_set<std::string> used(outer_used);
    collect_uses(g, used);
    auto* nodes = g.mutable_node();
    for (int k = nodes->size() - 1; k >= 0; --k) {
      const auto& n = nodes->Get(k);
      bool live = false;
      for (const auto& o : n.output()) live = live || used.count(o);
      if (!live) {
        nodes->DeleteSubrange(k, 1);
        ++removed;
        changed = true;
      }
    }
  }
  return removed;
}

void rename_in(onnx::GraphProto& g, const std::string& from, const std::string& to) {
  for (auto& n : *g.mutable_node()) {
    for (auto& i : *n.mutable_input())
      if (i == from) i = to;
    for (auto& o : *n.mutable_output())
      if (o == from) o = to;
    for (auto& a : *n.mutable_attribute())
      if (a.has_g()) rename_in(*a.mutable_g(), from, to);
  }
  for (auto& o : *g.mutable_output())
    if (o.name() == from) o.set_name(to);
}

}  // namespace

int remove_dead_nodes(onnx::GraphProto& graph) { return remove_dead_in(graph, {}); }

int remove_unused_initializers(onnx::GraphProto& graph) {
  std::unordered_set<std::string> used;
  collect_uses(graph, used);
  auto* inits = graph.mutable_initializer();
  int removed = 0;
  for (int k = inits->size() - 1; k >= 0; --k) {
    if (!used.count(inits->Get(k).name())) {
      inits->DeleteSubrange(k, 1);
      ++removed;
    }
  }
  return removed;
}

void rename_value(onnx::GraphProto& graph, const std::string& from, const std::string& to) { rename_in(graph, from, to); }

}  // namespace mlopt::onnx_export
