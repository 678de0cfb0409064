#pragma once
// Records a static graph of a TorchScript module by running it on example
// inputs under LibTorch's tracer (the C++ half of torch.jit.trace).
#include <torch/script.h>

#include <vector>

namespace mlopt {

// Runs `source.forward(example_inputs)` (eval mode, no gradients) under the
// tracer and returns a new module whose `forward` is the recorded graph. The
// module's parameters and buffers become attribute reads (as torch.jit.trace
// makes them), so the result is saveable and keeps its state_dict names;
// weights are copied, not shared with `source`. Control flow is evaluated,
// not recorded: only the branches taken for these inputs are in the graph.
// Errors are mlopt::Error.
torch::jit::Module trace_module(torch::jit::Module& source, const std::vector<at::Tensor>& example_inputs);

}  // namespace mlopt
