#pragma once
// Attention-head removal for nn.MultiheadAttention with a packed in-projection
// (nn.TransformerEncoderLayer's self_attn and look-alikes). Head h owns rows
// h*d..(h+1)*d of each of q, k and v in in_proj_weight / in_proj_bias and the
// same columns of out_proj.weight; removing it shrinks the attention's inner
// width from H*d to H'*d while the model width (its input and output) stays.
//
// F.multi_head_attention_forward takes the inner width to be the model width
// (embed_dim, read from query.shape). So the module's num_heads and embed_dim
// become H' and H'*d, and in the inlined forward the width read from
// query.shape is replaced by H'*d: head_dim stays d, the head views, the
// padding-mask expansion and the final view use the pruned width. The fused
// fast paths assume the two widths are one; they are lowered afterwards
// (graph_passes/transformer_lowering.h), and check_pruned_attention verifies it.
#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

namespace mlopt::pruning {

struct HeadPruneReport {
  std::string attention;  // module path, "encoder.layers.0.self_attn"
  int64_t heads_before = 0, heads_after = 0, head_dim = 0;
  std::vector<int64_t> kept;  // kept head indices, ascending
  std::string reason;         // why its heads were left alone ("" when pruned or not selected)
};

// On `graph`, the inlined but not yet attribute-folded forward of `module`:
// removes `amount` of the heads (at least one stays) of every attention module
// whose path matches `patterns` (all when empty), ranked by the Ln norm of the
// head's q, k, v rows and out_proj columns. Returns one entry per attention
// module; those whose in-projection is split (split_in_projections of the
// lowered graph) keep their heads, with the reason.
std::vector<HeadPruneReport> prune_attention_heads(torch::jit::Module& module, torch::jit::Graph& graph, double amount,
                                                   int norm, const std::vector<std::string>& patterns,
                                                   const std::set<std::string>& split);

// The attention modules whose in_proj_weight a (folded, lowered) graph reads
// in parts: cross-attention projects q and k/v apart, splitting the weight by
// the model width, which pruning heads would no longer match.
std::set<std::string> split_in_projections(const std::shared_ptr<torch::jit::Graph>& graph);

// After the fast paths are lowered and the graph folded: fails when the
// in-projection of an attention whose heads were removed is read in parts or
// a fused kernel is left (neither should happen: a safety net).
void check_pruned_attention(const std::shared_ptr<torch::jit::Graph>& graph, const std::vector<HeadPruneReport>& heads);

}  // namespace mlopt::pruning
