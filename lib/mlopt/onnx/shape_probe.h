#pragma once
// Runs the lowered graph node by node on example inputs (twice when some dims
// are dynamic: at the example sizes and at other sizes) and records, for every
// tensor value, its dtype and sizes and which dims changed between the runs.
// Converters use it to choose ops; dims that changed are exported symbolically.
#include <torch/script.h>

#include <optional>
#include <unordered_map>
#include <vector>

namespace mlopt::onnx_export {

struct TensorInfo {
  c10::ScalarType dtype = at::kFloat;
  std::vector<int64_t> sizes;  // at the example sizes
  std::vector<bool> dynamic;   // per dim: differed between runs (or loop iterations)
  int64_t rank() const { return static_cast<int64_t>(sizes.size()); }
  bool any_dynamic() const;
};

class ShapeInfo {
 public:
  std::optional<TensorInfo> find(const torch::jit::Value* v) const;
  void record(const torch::jit::Value* v, const at::Tensor& t, bool second_run);
  std::unordered_map<const torch::jit::Value*, TensorInfo> infos;
};

// Runs `graph` (its first input is the module `self`, given as `self_value`)
// on each input set; the first set gives the example sizes.
ShapeInfo probe_shapes(torch::jit::Graph& graph, const std::vector<std::vector<c10::IValue>>& input_sets);

// Runs one node on `stack` (its inputs; leaves its outputs): structural prims
// that have no registered operator (list/tuple construction, unpacking, casts)
// are done here, the rest through the node's operator.
void run_node_on_stack(const torch::jit::Node* node, torch::jit::Stack& stack);

// Runs the graph once, returning its outputs (used for the probes and tests).
std::vector<c10::IValue> run_graph(torch::jit::Graph& graph, const std::vector<c10::IValue>& inputs,
                                   ShapeInfo* record = nullptr, bool second_run = false);

}  // namespace mlopt::onnx_export
