#pragma once
// Dynamic int8 for the projections of nn.MultiheadAttention: its in_proj
// (q, k, v packed in in_proj_weight, called through F.linear on a parameter)
// and out_proj (called through F.linear on out_proj.weight, not through the
// Linear module's forward), which LibTorch's graph-mode passes do not reach.
// Run on the frozen module after the fast paths are lowered
// (graph_passes/transformer_lowering.h): each aten::linear over one of those weights
// becomes quantized::linear_dynamic over prepacked int8 weights, and the
// float weights drop out of the graph.
#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

#include "mlopt/quantize/weight_granularity.h"

namespace mlopt::quant {

struct AttentionProjection {
  std::string key;        // "<attention module>.in_proj" / "<attention module>.out_proj"
  std::string attention;  // the nn.MultiheadAttention module path
  at::Tensor weight;      // [out, in]
  // What aten::linear may be called with: the weight, and for in_proj its
  // q / k / v thirds and the k+v rows (cross-attention projects q and kv apart).
  std::vector<at::Tensor> forms;
};

// Modules owning in_proj_weight (nn.MultiheadAttention and look-alikes), in module order.
std::vector<std::string> attention_modules(const torch::jit::Module& model);
// Modules whose own forward calls one of PyTorch's fused transformer kernels behind its
// fast-path `if` (nn.TransformerEncoderLayer, nn.MultiheadAttention), in module order.
std::vector<std::string> fused_transformer_modules(const torch::jit::Module& model);
// Their projections (in_proj when the packed weight is used, out_proj).
std::vector<AttentionProjection> attention_projections(const torch::jit::Module& model);

// Rewrites aten::linear calls of the frozen module's forward whose weight
// constant equals one of `weights`; returns how many. `reduce_range`: as the
// graph passes chose for the engine (dynamic_reduce_range); by default read
// from the quantized::linear_dynamic calls the graph already has (none: false).
int rewrite_linear_dynamic(torch::jit::Module& frozen, const std::vector<at::Tensor>& weights, Granularity granularity,
                           c10::optional<bool> reduce_range = c10::nullopt);

// The reduce_range flag of the module's quantized::linear_dynamic calls, if it has any.
c10::optional<bool> dynamic_reduce_range(torch::jit::Module& module);

}  // namespace mlopt::quant
