#pragma once
// Normalizes a module's forward graph for channel analysis, and probes the
// shapes of its values by running it once on example inputs.
#include <torch/script.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mlopt::pruning {

// In place on `module`'s forward graph, in this order:
//  1. inline every submodule call, so one graph shows all data flow;
//  2. fold non-tensor attributes (flags, sizes, None biases) into constants,
//     except `training`, so that `if self.use_res:` branches resolve while
//     train()/eval() keep working for fine-tuning;
//  3. constant propagation and dead-code elimination remove the resolved
//     branches.
// Returns the graph (owned by the module's forward method).
std::shared_ptr<torch::jit::Graph> inline_and_fold_forward(torch::jit::Module& module);
// Steps 2 and 3 on an inlined graph of `module`'s forward (or a copy of it).
void fold_forward(const torch::jit::Module& module, const std::shared_ptr<torch::jit::Graph>& graph);

// LibTorch's graph-mode int8 passes (ReplicateQuant) fail on a linear layer
// whose input is one output of an If with several (the inlined
// multi_head_attention_forward's `if not is_batched: query = query.unsqueeze(1)`):
// such an input is read through aten::contiguous (a no-op on it), in place.
void separate_linear_inputs_from_ifs(torch::jit::Graph& graph);

// The attribute path ("layers.0.conv1.weight") a value reads from the graph's
// `self` input through a chain of prim::GetAttr, or nullopt.
std::optional<std::string> attribute_path(const torch::jit::Value* value);

// Shapes of the tensor values of the graph's top-level block, observed by
// running a copy of the graph once on `inputs` (self is `module`).
using ShapeMap = std::unordered_map<const torch::jit::Value*, std::vector<int64_t>>;
ShapeMap probe_shapes(torch::jit::Module& module, const std::shared_ptr<torch::jit::Graph>& graph,
                      const std::vector<at::Tensor>& inputs);

}  // namespace mlopt::pruning
