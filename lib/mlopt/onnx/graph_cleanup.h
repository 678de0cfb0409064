#pragma once
// Clean-up passes over the finished ONNX graph, plain functions called in order
// by export_module: dead nodes and unused initializers go.
#include <onnx/onnx_pb.h>

namespace mlopt::onnx_export {

// Removes nodes none of whose outputs are used (by a node, a subgraph, or a
// graph output); recurses into If/Loop bodies. Returns how many went.
int remove_dead_nodes(onnx::GraphProto& graph);
// Removes initializers that nothing reads.
int remove_unused_initializers(onnx::GraphProto& graph);
// Renames a value everywhere (nodes, subgraphs, graph outputs).
void rename_value(onnx::GraphProto& graph, const std::string& from, const std::string& to);

}  // namespace mlopt::onnx_export
