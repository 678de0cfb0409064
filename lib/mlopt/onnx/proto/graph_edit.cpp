#include "mlopt/onnx/proto/graph_edit.h"

#include <algorithm>

namespace mlopt::onnx_proto {
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

void rename_in(onnx::GraphProto& g, const std::string& from, const std::string& to, bool outputs_too) {
  for (auto& n : *g.mutable_node()) {
    for (auto& i : *n.mutable_input())
      if (i == from) i = to;
    if (outputs_too)
      for (auto& o : *n.mutable_output())
        if (o == from) o = to;
    for (auto& a : *n.mutable_attribute())
      if (a.has_g()) rename_in(*a.mutable_g(), from, to, outputs_too);
  }
  if (outputs_too)
    for (auto& o : *g.mutable_output())
      if (o.name() == from) o.set_name(to);
}

}  // namespace

FreshNames::FreshNames(const onnx::GraphProto& g) {
  for (const auto& i : g.input()) used_.insert(i.name());
  for (const auto& i : g.initializer()) used_.insert(i.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) used_.insert(o);
}

std::string FreshNames::fresh(const std::string& base) {
  std::string name = base;
  for (int k = 1; used_.count(name); ++k) name = base + "_" + std::to_string(k);
  used_.insert(name);
  return name;
}

std::set<std::string> graph_output_names(const onnx::GraphProto& g) {
  std::set<std::string> out;
  for (const auto& o : g.output()) out.insert(o.name());
  return out;
}

std::map<std::string, std::vector<int>> consumers_of(const onnx::GraphProto& g) {
  std::map<std::string, std::vector<int>> out;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& in : g.node(i).input())
      if (!in.empty()) out[in].push_back(i);
  return out;
}

std::map<std::string, const onnx::TensorProto*> initializers_of(const onnx::GraphProto& graph) {
  std::map<std::string, const onnx::TensorProto*> out;
  for (const auto& t : graph.initializer()) out[t.name()] = &t;
  return out;
}

int remove_dead_nodes(onnx::GraphProto& graph) { return remove_dead_in(graph, {}); }

int remove_unused_initializers(onnx::GraphProto& graph) {
  std::unordered_set<std::string> used, removed;
  collect_uses(graph, used);
  for (const auto& t : graph.initializer())
    if (!used.count(t.name())) removed.insert(t.name());
  if (removed.empty()) return 0;
  auto* inits = graph.mutable_initializer();
  inits->erase(std::remove_if(inits->begin(), inits->end(),
                              [&](const onnx::TensorProto& t) { return removed.count(t.name()) > 0; }),
               inits->end());
  auto* inputs = graph.mutable_input();
  inputs->erase(std::remove_if(inputs->begin(), inputs->end(),
                               [&](const onnx::ValueInfoProto& v) { return removed.count(v.name()) > 0; }),
                inputs->end());
  return static_cast<int>(removed.size());
}

void rename_value(onnx::GraphProto& graph, const std::string& from, const std::string& to) {
  rename_in(graph, from, to, true);
}

void rename_uses(onnx::GraphProto& graph, const std::string& from, const std::string& to) {
  rename_in(graph, from, to, false);
}

}  // namespace mlopt::onnx_proto
