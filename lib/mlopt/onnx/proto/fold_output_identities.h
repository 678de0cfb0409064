#pragma once
// A clean-up pass over a finished graph: an Identity that only renames a
// node's result to a graph output name is folded into that node, which then
// writes the output name itself.
#include <onnx/onnx_pb.h>

namespace mlopt::onnx_proto {

// Folds each main-graph Identity whose output is a graph output and whose
// input is produced by a node of the graph, read by nothing else and not a
// graph output itself. One pass over the graph (linear in its size); returns
// how many Identity nodes went.
int fold_output_identities(onnx::GraphProto& graph);

}  // namespace mlopt::onnx_proto
