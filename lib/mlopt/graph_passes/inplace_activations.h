#pragma once
// Activations run in place on the fresh output of an int8 linear layer.
//
// quantized::linear_dynamic returns a new tensor; an activation that is its
// only reader (the GELU between a transformer's feed-forward linears) can
// overwrite it instead of allocating a tensor as large again (batch 32 x 64
// tokens x 1024 channels: 8 MB a layer), the allocation that PyTorch's fused
// float path (aten::_addmm_activation) does not make. Numerics are unchanged:
// the in-place kernels compute the same values.
namespace torch::jit {
struct Graph;
}

namespace mlopt::graph_passes {

// Rewrites `act(linear_out)` to `act_(linear_out)` where linear_out comes
// from quantized::linear_dynamic and has no other use; returns how many.
int run_activations_in_place(torch::jit::Graph& graph);

}  // namespace mlopt::graph_passes
