#pragma once
// Executes an ONNX graph with the registered ATen kernels.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <string>
#include <vector>

#include "mlopt/onnx/eval/scope.h"

namespace mlopt::onnx_eval {

// Runs `graph`: binds `inputs` to the graph inputs in order (trailing inputs
// that are initializers may be omitted), adds its initializers, executes the
// nodes in dependency order and returns the graph outputs. `parent` is the
// enclosing scope of a subgraph (null for the main graph).
std::vector<at::Tensor> run_graph(const onnx::GraphProto& graph, const std::vector<at::Tensor>& inputs,
                                  const Scope* parent, int64_t opset, const std::string& what);

// The nodes of `graph` in an order where every value is produced before it is
// used (ONNX requires sorted graphs; exporters sometimes are not). Errors name
// the node and the value that no one produces.
std::vector<const onnx::NodeProto*> execution_order(const onnx::GraphProto& graph, const Scope* outer,
                                                    const std::string& what);

}  // namespace mlopt::onnx_eval
