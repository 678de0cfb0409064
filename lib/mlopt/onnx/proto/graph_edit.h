#pragma once
// Edits of an ONNX graph shared by the exporter's clean-up and quantize's
// rewrites: fresh names, who reads a value, renames, and the removal of dead
// nodes and unused initializers. Subgraphs (If/Loop bodies) count as readers.
#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace mlopt::onnx_proto {

// Fresh value names that collide with nothing in the graph (inputs,
// initializers, node outputs): "x" -> "x", then "x_1", "x_2", ...
class FreshNames {
 public:
  explicit FreshNames(const onnx::GraphProto& graph);
  std::string fresh(const std::string& base);

 private:
  std::unordered_set<std::string> used_;
};

std::set<std::string> graph_output_names(const onnx::GraphProto& graph);
// value -> indices of the graph's own nodes reading it (subgraphs not included).
std::map<std::string, std::vector<int>> consumers_of(const onnx::GraphProto& graph);
// initializer name -> its tensor.
std::map<std::string, const onnx::TensorProto*> initializers_of(const onnx::GraphProto& graph);

// Removes nodes none of whose outputs are used (by a node, a subgraph, or a
// graph output); recurses into If/Loop bodies. Returns how many went.
int remove_dead_nodes(onnx::GraphProto& graph);
// Removes the initializers nothing reads (no node, subgraph or graph output)
// and the graph inputs that only declared them (older exporters list
// initializers as inputs). Returns how many initializers went.
int remove_unused_initializers(onnx::GraphProto& graph);
// Renames a value everywhere: node inputs and outputs, subgraphs, graph outputs.
void rename_value(onnx::GraphProto& graph, const std::string& from, const std::string& to);
// Renames the reads of a value only (node inputs, subgraphs included); its
// producer and the graph outputs keep the old name.
void rename_uses(onnx::GraphProto& graph, const std::string& from, const std::string& to);

}  // namespace mlopt::onnx_proto
