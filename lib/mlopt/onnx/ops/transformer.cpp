// PyTorch's fused inference fast paths, decomposed into ONNX ops:
//   aten::_transformer_encoder_layer_fwd  (nn.TransformerEncoderLayer, eval)
//   aten::_native_multi_head_attention    (nn.MultiheadAttention, eval)
// Inputs are batch-first [B, S, E]. The 1/sqrt(head_dim) scale is folded into
// the query projection's weights at export time.
#include <cmath>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::string linear(Context& ctx, const std::string& x, const at::Tensor& w, const at::Tensor& b) {
  std::string y = ctx.b().add1("MatMul", {x, ctx.b().constant(w.t().contiguous(), "weight_t")});
  return b.defined() ? ctx.b().add1("Add", {y, ctx.b().constant(b, "bias")}) : y;
}

// [B, S, E] -> [B, H, S, D] (or [B, H, D, S] for keys)
std::string split_heads(Context& ctx, const std::string& x, int64_t heads, int64_t head_dim, bool keys) {
  std::string r = ctx.b().add1("Reshape", {x, ctx.b().ints({0, 0, heads, head_dim})});
  return ctx.b().add1("Transpose", {r}, {{"perm", keys ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 2, 1, 3}}});
}

struct Attention {
  std::string out;      // [B, S, E]
  std::string weights;  // [B, H, S, S] softmax
};

// mask_type 1: key padding [B, S]; 0 or other: attention mask [S, S] (or [B*H, S, S] not supported).
std::string apply_mask(Context& ctx, const std::string& scores, size_t mask_input, int64_t mask_type) {
  if (ctx.is_none(mask_input)) return scores;
  std::string mask = ctx.tensor(mask_input);
  int64_t rank = ctx.rank(mask_input);
  if (mask_type == 1 || (rank == 2 && mask_type == 1)) mask = unsqueeze(ctx, mask, {1, 2});  // [B,1,1,S]
  if (ctx.dtype(mask_input) == at::kBool) {
    std::string neg = ctx.b().constant(torch::scalar_tensor(-std::numeric_limits<float>::infinity()), "neg_inf");
    return ctx.b().add1("Where", {mask, neg, scores});
  }
  return ctx.b().add1("Add", {scores, mask});
}

Attention attention(Context& ctx, const std::string& q_in, const std::string& k_in, const std::string& v_in, int64_t embed,
                    int64_t heads, const at::Tensor& qkv_w, const at::Tensor& qkv_b, const at::Tensor& proj_w,
                    const at::Tensor& proj_b, size_t mask_input, int64_t mask_type) {
  int64_t head_dim = embed / heads;
  double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  auto ws = qkv_w.chunk(3, 0);
  std::vector<at::Tensor> bs(3);
  if (qkv_b.defined()) {
    auto c = qkv_b.chunk(3, 0);
    bs.assign(c.begin(), c.end());
  }
  std::string q = linear(ctx, q_in, ws[0] * scale, bs[0].defined() ? bs[0] * scale : at::Tensor());
  std::string k = linear(ctx, k_in, ws[1], bs[1]);
  std::string v = linear(ctx, v_in, ws[2], bs[2]);
  std::string scores = ctx.b().add1("MatMul", {split_heads(ctx, q, heads, head_dim, false), split_heads(ctx, k, heads, head_dim, true)});
  scores = apply_mask(ctx, scores, mask_input, mask_type);
  std::string probs = ctx.b().add1("Softmax", {scores}, {{"axis", int64_t{-1}}});
  std::string ctxv = ctx.b().add1("MatMul", {probs, split_heads(ctx, v, heads, head_dim, false)});
  std::string merged = ctx.b().add1("Transpose", {ctxv}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  merged = ctx.b().add1("Reshape", {merged, ctx.b().ints({0, 0, embed})});
  return {linear(ctx, merged, proj_w, proj_b), probs};
}

at::Tensor opt_tensor(Context& ctx, size_t i) { return ctx.is_none(i) ? at::Tensor() : ctx.const_tensor(i); }

std::string layer_norm(Context& ctx, const std::string& x, const at::Tensor& w, const at::Tensor& b, double eps) {
  if (ctx.opset() >= 17)
    return ctx.b().add1("LayerNormalization", {x, ctx.b().constant(w), ctx.b().constant(b)},
                        {{"axis", int64_t{-1}}, {"epsilon", eps}});
  std::string mean = ctx.b().add1("ReduceMean", {x}, {{"axes", std::vector<int64_t>{-1}}});
  std::string c = ctx.b().add1("Sub", {x, mean});
  std::string var = ctx.b().add1("ReduceMean", {ctx.b().add1("Mul", {c, c})}, {{"axes", std::vector<int64_t>{-1}}});
  std::string den = ctx.b().add1("Sqrt", {ctx.b().add1("Add", {var, ctx.b().constant(torch::scalar_tensor(eps, at::kFloat))})});
  std::string y = ctx.b().add1("Div", {c, den});
  return ctx.b().add1("Add", {ctx.b().add1("Mul", {y, ctx.b().constant(w)}), ctx.b().constant(b)});
}

std::string gelu(Context& ctx, const std::string& x) {
  auto s = [&](double v) { return ctx.b().constant(torch::scalar_tensor(v, at::kFloat), "scalar"); };
  std::string erf = ctx.b().add1("Erf", {ctx.b().add1("Div", {x, s(std::sqrt(2.0))})});
  return ctx.b().add1("Mul", {ctx.b().add1("Mul", {x, ctx.b().add1("Add", {erf, s(1.0)})}), s(0.5)});
}

// _transformer_encoder_layer_fwd(src, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias,
//   use_gelu, norm_first, eps, norm_weight_1, norm_bias_1, norm_weight_2, norm_bias_2,
//   ffn_weight_1, ffn_bias_1, ffn_weight_2, ffn_bias_2, mask, mask_type)
void convert_encoder_layer(Context& ctx) {
  int64_t embed = ctx.to_int(1), heads = ctx.to_int(2);
  bool use_gelu = ctx.to_bool(7), norm_first = ctx.to_bool(8);
  double eps = ctx.to_double(9);
  int64_t mask_type = ctx.num_inputs() > 19 && !ctx.is_none(19) ? ctx.to_int(19) : 1;
  auto ln1 = [&](const std::string& x) { return layer_norm(ctx, x, ctx.const_tensor(10), ctx.const_tensor(11), eps); };
  auto ln2 = [&](const std::string& x) { return layer_norm(ctx, x, ctx.const_tensor(12), ctx.const_tensor(13), eps); };
  auto mha = [&](const std::string& x) {
    return attention(ctx, x, x, x, embed, heads, ctx.const_tensor(3), opt_tensor(ctx, 4), ctx.const_tensor(5),
                     opt_tensor(ctx, 6), 18, mask_type)
        .out;
  };
  auto ffn = [&](const std::string& x) {
    std::string h = linear(ctx, x, ctx.const_tensor(14), opt_tensor(ctx, 15));
    h = use_gelu ? gelu(ctx, h) : ctx.b().add1("Relu", {h});
    return linear(ctx, h, ctx.const_tensor(16), opt_tensor(ctx, 17));
  };
  std::string x = ctx.tensor(0);
  if (ctx.rank(0) != 3) ctx.fail_op("expected a batched [B, S, E] input (nested tensors are not supported)");
  if (norm_first) {
    x = ctx.b().add1("Add", {x, mha(ln1(x))});
    x = ctx.b().add1("Add", {x, ffn(ln2(x))});
  } else {
    x = ln1(ctx.b().add1("Add", {x, mha(x)}));
    x = ln2(ctx.b().add1("Add", {x, ffn(x)}));
  }
  ctx.set_tensor(0, x);
}

// _native_multi_head_attention(query, key, value, embed_dim, num_head, qkv_weight, qkv_bias,
//   proj_weight, proj_bias, mask, need_weights, average_attn_weights, mask_type) -> (out, weights)
void convert_native_mha(Context& ctx) {
  int64_t embed = ctx.to_int(3), heads = ctx.to_int(4);
  int64_t mask_type = ctx.num_inputs() > 12 && !ctx.is_none(12) ? ctx.to_int(12) : 1;
  auto att = attention(ctx, ctx.tensor(0), ctx.tensor(1), ctx.tensor(2), embed, heads, ctx.const_tensor(5),
                       opt_tensor(ctx, 6), ctx.const_tensor(7), opt_tensor(ctx, 8), 9, mask_type);
  ctx.set_tensor(0, att.out);
  bool average = ctx.num_inputs() > 11 && ctx.to_bool(11);
  std::string w = average ? ctx.b().add1("ReduceMean", {att.weights}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}})
                          : att.weights;
  ctx.set_tensor(1, w);
}

}  // namespace

REGISTER_CONVERTER({"aten::_transformer_encoder_layer_fwd"}, convert_encoder_layer);
REGISTER_CONVERTER({"aten::_native_multi_head_attention"}, convert_native_mha);

}  // namespace mlopt::onnx_export
