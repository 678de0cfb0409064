#pragma once
// Runs the lowered graph node by node on example inputs (twice when some dims
// are dynamic: at the example sizes and at other sizes) and records, for every
// tensor value, its dtype and sizes and which dims changed between the runs.
// Converters use it to choose ops; dims that changed are exported symbolically.
#include <torch/script.h>

#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "mlopt/onnx/module_state.h"

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

struct RunOptions {
  ShapeInfo* record = nullptr;  // where to record every tensor value's sizes
  bool second_run = false;      // compare with the sizes recorded before
  bool meta = false;            // tensor constants become meta tensors (pass meta inputs)
  // The dim of a node's outputs whose size follows the values (NMS, masks,
  // nonzero), or INT64_MIN: those outputs keep at most their first two rows,
  // so that the counts after them differ from the first run even where a cap
  // (a detector's 100 detections per image) would make them equal.
  std::function<int64_t(const torch::jit::Node*)> shrink_data_dependent;
  ModuleWrites* module_writes = nullptr;  // where to leave what forward wrote into module attributes
};

// A meta tensor (sizes, strides and dtype, no storage) for each tensor of rank
// 1 or more in `v`, looking into lists and tuples; other values are returned
// as they are.
c10::IValue to_meta(const c10::IValue& v);

// Runs one node on `stack` (its inputs; leaves its outputs): structural prims
// that have no registered operator (list/tuple construction, unpacking, casts)
// are done here, the rest through the node's operator.
void run_node_on_stack(const torch::jit::Node* node, torch::jit::Stack& stack);

// Runs the graph once, returning its outputs (used for the probes and tests).
std::vector<c10::IValue> run_graph(torch::jit::Graph& graph, const std::vector<c10::IValue>& inputs,
                                   const RunOptions& options = {});

}  // namespace mlopt::onnx_export
