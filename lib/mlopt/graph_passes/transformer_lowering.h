#pragma once
// Lowering of PyTorch's fused transformer fast paths to their unfused math,
// so that the projections quantization rewrites are the ones that execute.
//
// In eval mode nn.TransformerEncoderLayer and nn.MultiheadAttention (torch
// 1.13) take aten::_transformer_encoder_layer_fwd /
// aten::_native_multi_head_attention behind an `if` on "why not the fast
// path"; nn.TransformerEncoder turns padded batches into nested tensors
// (aten::_nested_tensor_from_mask) for them. Those kernels read the float
// weights, so int8 linears on the unfused branch would never run.
#include <memory>

namespace torch::jit {
struct Graph;
}

namespace mlopt::graph_passes {

struct LoweringStats {
  int fast_paths = 0;      // fused-kernel branches removed
  int nested_inputs = 0;   // nested-tensor conversions replaced by a padding-mask fill
};

// On a frozen (inlined) forward graph: every fast-path branch is folded to
// the unfused one (its condition made false where the branch is decided),
// the nested-tensor conversion of padded batches becomes "zero the padded
// positions" (what the fused path returns for them), and the in-projection's
// `query is key is value` tests are resolved for views of one tensor (the
// packed and the separate projections compute the same numbers), so only the
// packed projection is left. Numerics are the fused path's up to float
// rounding (the quantize back end checks it on the calibration inputs).
LoweringStats lower_transformer_fast_paths(const std::shared_ptr<torch::jit::Graph>& graph);

// Whether the graph (inlined) still calls one of the fused transformer kernels.
bool calls_fused_transformer(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace mlopt::graph_passes
