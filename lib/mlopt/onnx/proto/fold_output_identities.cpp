#include "mlopt/onnx/proto/fold_output_identities.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mlopt::onnx_proto {

namespace {

// Applies every rename of `renames` in one walk: node inputs and outputs,
// subgraphs (which may read the value from the outer scope) and graph outputs.
void rename_all(onnx::GraphProto& g, const std::unordered_map<std::string, std::string>& renames) {
  auto apply = [&](std::string& name) {
    auto it = renames.find(name);
    if (it != renames.end()) name = it->second;
  };
  for (auto& n : *g.mutable_node()) {
    for (auto& i : *n.mutable_input()) apply(i);
    for (auto& o : *n.mutable_output()) apply(o);
    for (auto& a : *n.mutable_attribute())
      if (a.has_g()) rename_all(*a.mutable_g(), renames);
  }
  for (auto& o : *g.mutable_output()) apply(*o.mutable_name());
}

}  // namespace

int fold_output_identities(onnx::GraphProto& graph) {
  std::unordered_set<std::string> outputs, produced;
  std::unordered_map<std::string, int> readers;  // main-graph node inputs
  for (const auto& o : graph.output()) outputs.insert(o.name());
  for (const auto& n : graph.node()) {
    for (const auto& o : n.output()) produced.insert(o);
    for (const auto& i : n.input()) readers[i]++;
  }
  std::unordered_map<std::string, std::string> renames;  // producer's value -> output name
  std::vector<bool> folded(static_cast<size_t>(graph.node_size()), false);
  for (int k = 0; k < graph.node_size(); ++k) {
    const auto& n = graph.node(k);
    if (n.op_type() != "Identity" || n.input_size() != 1 || n.output_size() != 1) continue;
    const std::string& src = n.input(0);
    if (!outputs.count(n.output(0)) || !produced.count(src) || readers[src] != 1 || outputs.count(src)) continue;
    renames[src] = n.output(0);
    folded[static_cast<size_t>(k)] = true;
  }
  if (renames.empty()) return 0;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (int k = 0; k < graph.node_size(); ++k)
    if (!folded[static_cast<size_t>(k)]) kept.Add()->Swap(graph.mutable_node(k));
  graph.mutable_node()->Swap(&kept);
  rename_all(graph, renames);
  return static_cast<int>(renames.size());
}

}  // namespace mlopt::onnx_proto
