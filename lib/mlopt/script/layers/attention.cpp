// nn.MultiheadAttention: in_proj_weight/in_proj_bias and an out_proj Linear,
// with PyTorch's math (scaled dot product, masks, averaged weights) written
// out in TorchScript.
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

constexpr const char* kForward = R"(
def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Optional[Tensor] = None,
            need_weights: bool = True, attn_mask: Optional[Tensor] = None,
            average_attn_weights: bool = True) -> Tuple[Tensor, Optional[Tensor]]:
    if BATCH_FIRST:
        query = query.transpose(0, 1)
        key = key.transpose(0, 1)
        value = value.transpose(0, 1)
    tgt_len = query.size(0)
    bsz = query.size(1)
    w = self.in_proj_weight.chunk(3)
    BIAS_CHUNKS
    q = torch.linear(query, w[0], b_q)
    k = torch.linear(key, w[1], b_k)
    v = torch.linear(value, w[2], b_v)
    q = q.reshape([tgt_len, bsz * NUM_HEADS, HEAD_DIM]).transpose(0, 1)
    k = k.reshape([k.size(0), bsz * NUM_HEADS, HEAD_DIM]).transpose(0, 1)
    v = v.reshape([v.size(0), bsz * NUM_HEADS, HEAD_DIM]).transpose(0, 1)
    src_len = k.size(1)
    q = q / SQRT_HEAD_DIM
    attn = torch.bmm(q, k.transpose(-2, -1))
    if attn_mask is not None:
        mask = attn_mask
        if mask.dim() == 2:
            mask = mask.unsqueeze(0)
        if mask.dtype == 11:  # torch.bool
            attn = attn.masked_fill(mask, float("-inf"))
        else:
            attn = attn + mask
    if key_padding_mask is not None:
        kpm = key_padding_mask.view([bsz, 1, 1, src_len]).expand([-1, NUM_HEADS, -1, -1]).reshape([bsz * NUM_HEADS, 1, src_len])
        if kpm.dtype == 11:  # torch.bool
            attn = attn.masked_fill(kpm, float("-inf"))
        else:
            attn = attn + kpm
    attn = torch.softmax(attn, -1)
    if DROPOUT > 0.0:
        attn = torch.dropout(attn, DROPOUT, self.training)
    out = torch.bmm(attn, v)
    out = out.transpose(0, 1).contiguous().view([tgt_len * bsz, EMBED_DIM])
    out = self.out_proj.forward(out).view([tgt_len, bsz, EMBED_DIM])
    if BATCH_FIRST:
        out = out.transpose(0, 1)
    if need_weights:
        weights = attn.view([bsz, NUM_HEADS, tgt_len, src_len])
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, weights
    return out, None
)";

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size())) text.replace(p, from.size(), to);
}

torch::jit::Module build_mha(const LayerArgs& a, LayerContext& ctx) {
  int64_t embed = a.integer("embed_dim"), heads = a.integer("num_heads");
  if (heads <= 0 || embed % heads) fail("nn.MultiheadAttention: embed_dim ({}) must be divisible by num_heads ({})", embed, heads);
  if (a.boolean("add_bias_kv") || a.boolean("add_zero_attn"))
    fail("nn.MultiheadAttention: add_bias_kv and add_zero_attn are not supported");
  if ((!a.is_none("kdim") && a.integer("kdim") != embed) || (!a.is_none("vdim") && a.integer("vdim") != embed))
    fail("nn.MultiheadAttention: kdim/vdim different from embed_dim are not supported");
  bool bias = a.boolean("bias");
  auto m = new_module(ctx, "torch.nn.modules.activation.MultiheadAttention");
  // PyTorch creates out_proj (a Linear, kaiming init) in __init__, then
  // _reset_parameters: xavier_uniform_(in_proj_weight), zero biases.
  auto out_proj = new_module(ctx, "torch.nn.modules.linear.NonDynamicallyQuantizableLinear");
  double linear_bound = 1.0 / std::sqrt(double(embed));
  auto in_proj_weight = zeros_tensor(ctx, {3 * embed, embed});
  auto out_weight = uniform_tensor(ctx, {embed, embed}, linear_bound);
  auto out_bias = uniform_tensor(ctx, {embed}, linear_bound);
  in_proj_weight.uniform_(-std::sqrt(6.0 / double(embed + 3 * embed)), std::sqrt(6.0 / double(embed + 3 * embed)), ctx.gen);
  out_proj.register_parameter("weight", out_weight, false);
  if (bias) out_proj.register_parameter("bias", out_bias.zero_(), false);
  define_methods(ctx, out_proj,
                 std::string("def forward(self, input: Tensor) -> Tensor:\n    return torch.linear(input, self.weight, ") +
                     (bias ? "self.bias" : "None") + ")\n",
                 "MultiheadAttention");
  m.register_parameter("in_proj_weight", in_proj_weight, false);
  if (bias) m.register_parameter("in_proj_bias", zeros_tensor(ctx, {3 * embed}), false);
  m.register_module("out_proj", out_proj);
  std::string source = kForward;
  replace_all(source, "BIAS_CHUNKS", bias ? "b = self.in_proj_bias.chunk(3)\n    b_q = b[0]\n    b_k = b[1]\n    b_v = b[2]"
                                          : "b_q: Optional[Tensor] = None\n    b_k: Optional[Tensor] = None\n    b_v: Optional[Tensor] = None");
  replace_all(source, "BATCH_FIRST", a.boolean("batch_first") ? "True" : "False");
  replace_all(source, "NUM_HEADS", std::to_string(heads));
  replace_all(source, "HEAD_DIM", std::to_string(embed / heads));
  replace_all(source, "SQRT_" + std::to_string(embed / heads), PyValue::real(std::sqrt(double(embed / heads))).repr());
  replace_all(source, "EMBED_DIM", std::to_string(embed));
  replace_all(source, "DROPOUT", PyValue::real(a.real("dropout")).repr());
  define_methods(ctx, m, source, "MultiheadAttention");
  return m;
}

}  // namespace

MLOPT_REGISTER_LAYER("MultiheadAttention",
                     "embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False, kdim=None, "
                     "vdim=None, batch_first=False, device=None, dtype=None",
                     build_mha);

}  // namespace mlopt::script
