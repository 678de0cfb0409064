// quantize: transformer dynamic int8 that is int8 where it runs: PyTorch's
// fused fast paths lowered to the unfused math, every projection (attention
// in_proj and out_proj, feed-forward, hand-written q/k/v) a
// quantized::linear_dynamic on the executed path (fixtures:
// tests/fixtures/make_transformer_fixtures.py).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "mlopt/quantize/executed_ops.h"
#include "mlopt/quantize/quantize.h"
#include "mlopt/graph_passes/transformer_lowering.h"
#include "quantize/quantized_ops.h"
#include "support/test_support.h"

using mlopt::test::count_op;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

constexpr int64_t kSeq = 12;

// Right-padded token batches of several lengths (token 0 is padding in the fixture).
at::Tensor padded_tokens(int64_t batch, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto tokens = at::randint(1, 20, {batch, kSeq}, gen, at::kLong);
  for (int64_t i = 0; i < batch; ++i) {
    int64_t len = 2 + (i * 5) % (kSeq - 1);
    if (len < kSeq) tokens[i].slice(0, len).zero_();
  }
  return tokens;
}

mlopt::QuantizeOptions encoder_options(const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = test_data("quantize_encoder.pt");
  o.mode = "dynamic";
  o.inputs = {"tokens:batch=8x12:int64:0..20"};
  o.no_latency = true;
  o.output = out;
  return o;
}

int64_t count(const std::map<std::string, int64_t>& ops, const std::string& op) {
  auto it = ops.find(op);
  return it == ops.end() ? 0 : it->second;
}

double cosine(const at::Tensor& a, const at::Tensor& b) {
  return (a.flatten() * b.flatten()).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
}

}  // namespace

TEST_CASE("transformer int8: the unfused path computes what the fused encoder does", "[quantize-transformer]") {
  auto model = mlopt::load_torchscript(test_data("quantize_encoder.pt"));
  model.eval();
  auto frozen = torch::jit::freeze(model.clone());
  auto graph = frozen.get_method("forward").graph();
  REQUIRE(mlopt::graph_passes::calls_fused_transformer(graph));
  auto stats = mlopt::graph_passes::lower_transformer_fast_paths(graph);
  CHECK(stats.fast_paths == 4);  // 2 layers: the encoder layer's and its attention's fast path
  CHECK(stats.nested_inputs == 1);
  CHECK_FALSE(mlopt::graph_passes::calls_fused_transformer(graph));
  // Padded batches (the fused path runs them as nested tensors) and unpadded ones.
  for (auto tokens : {padded_tokens(6, 1), at::randint(1, 20, {3, kSeq}, at::kLong)}) {
    auto fused = mlopt::run_module(model, {tokens})[0];
    auto lowered = mlopt::run_module(frozen, {tokens})[0];
    CHECK((fused - lowered).abs().max().item<double>() < 1e-4 * std::max(1.0, fused.abs().max().item<double>()));
  }
  // What executes is the unfused path.
  auto ops = mlopt::quant::executed_ops(frozen, {padded_tokens(4, 2)});
  CHECK(count(ops, "aten::_transformer_encoder_layer_fwd") == 0);
  CHECK(count(ops, "aten::_native_multi_head_attention") == 0);
  CHECK(count(ops, "aten::linear") == 9);  // in_proj, out_proj, linear1, linear2 per layer, head
  auto fused_ops = mlopt::quant::executed_ops(model, {padded_tokens(4, 2)});
  CHECK(count(fused_ops, "aten::_transformer_encoder_layer_fwd") == 2);
}

TEST_CASE("transformer int8: every projection of nn.TransformerEncoder runs quantized::linear_dynamic",
          "[quantize-transformer]") {
  auto out = temp_dir("quantize-transformer") + "/encoder.pt";
  auto r = mlopt::quantize(encoder_options(out), {});
  // Per layer in_proj (q, k, v), out_proj, linear1, linear2; and the head.
  CHECK(count_op(r, "quantized::linear_dynamic") == 9);
  int in_proj = 0;
  for (const auto& l : r.layers) {
    INFO(l.name << ": " << l.float_reason);
    CHECK(l.quantized);
    if (l.name.find("self_attn.in_proj") != std::string::npos) ++in_proj;
  }
  CHECK(in_proj == 2);
  CHECK(r.size_after < 0.35 * r.size_before);
  CHECK(r.output_sqnr_db > 20.0);

  // The written artifact executes int8 for every projection: no float linear,
  // no fused kernel reading float weights.
  auto q = mlopt::load_torchscript(out);
  auto ops = mlopt::quant::executed_ops(q, {padded_tokens(8, 3)});
  CHECK(count(ops, "quantized::linear_dynamic") == 9);
  CHECK(count(ops, "aten::linear") == 0);
  CHECK(count(ops, "aten::matmul") == 0);
  CHECK(count(ops, "aten::_transformer_encoder_layer_fwd") == 0);
  CHECK(count(ops, "aten::_native_multi_head_attention") == 0);
  // The feed-forward GELU overwrites its int8 linear's fresh output (no second
  // tensor as large, as in the fused float path).
  CHECK(count(ops, "aten::gelu_") == 2);
  CHECK(count(ops, "aten::gelu") == 0);

  // Top-1 agreement and cosine with the float model over padded batches.
  auto float_model = mlopt::load_torchscript(test_data("quantize_encoder.pt"));
  int64_t agree = 0, total = 0;
  for (uint64_t seed = 10; seed < 18; ++seed) {
    auto tokens = padded_tokens(16, seed);
    auto a = mlopt::run_module(float_model, {tokens})[0], b = mlopt::run_module(q, {tokens})[0];
    CHECK(cosine(a, b) > 0.99);
    agree += a.argmax(1).eq(b.argmax(1)).sum().item<int64_t>();
    total += tokens.size(0);
  }
  CHECK(agree >= total * 95 / 100);
}

TEST_CASE("transformer int8: --skip of an attention in_proj keeps the in_proj group in float",
          "[quantize-transformer]") {
  auto o = encoder_options(temp_dir("quantize-transformer") + "/skip.pt");
  o.skip = {"encoder.layers.0.self_attn.in_proj"};
  auto r = mlopt::quantize(o, {});
  CHECK(count_op(r, "quantized::linear_dynamic") == 7);  // both in_proj float, the rest int8
  for (const auto& l : r.layers) {
    if (l.name == "encoder.layers.0.self_attn.in_proj") CHECK(l.float_reason.find("--skip") != std::string::npos);
    if (l.name == "encoder.layers.1.self_attn.in_proj") CHECK_FALSE(l.quantized);
    if (l.name == "encoder.layers.1.self_attn.out_proj") CHECK(l.quantized);
  }
  auto q = mlopt::load_torchscript(o.output);
  auto ops = mlopt::quant::executed_ops(q, {padded_tokens(4, 5)});
  CHECK(count(ops, "aten::linear") == 2);  // the float in_proj of each layer, on the unfused path
  CHECK(count(ops, "aten::_transformer_encoder_layer_fwd") == 0);
}

TEST_CASE("transformer int8: hand-written attention (separate q/k/v Linear) is int8 throughout",
          "[quantize-transformer]") {
  mlopt::QuantizeOptions o;
  o.model.path = test_data("quantize_attention_handwritten.pt");
  o.mode = "dynamic";
  o.inputs = {"x:batch=4x10x32"};
  o.no_latency = true;
  o.output = temp_dir("quantize-transformer") + "/hand.pt";
  auto r = mlopt::quantize(o, {});
  CHECK(count_op(r, "quantized::linear_dynamic") == 13);  // 2 x (q, k, v, out, ff1, ff2) + head
  CHECK(r.output_sqnr_db > 20.0);
  auto q = mlopt::load_torchscript(o.output);
  auto ops = mlopt::quant::executed_ops(q, {torch::randn({2, 10, 32})});
  CHECK(count(ops, "aten::linear") == 0);
  CHECK(count(ops, "aten::matmul") == 4);  // QK^T and AV: activations only, no weights
}

TEST_CASE("transformer int8: encoder-decoder (cross-attention, causal mask, sequence-first) is int8 throughout",
          "[quantize-transformer]") {
  mlopt::QuantizeOptions o;
  o.model.path = test_data("quantize_seq2seq.pt");
  o.mode = "dynamic";
  o.inputs = {"tokens:batch=4x8:int64:1..20"};
  o.no_latency = true;
  o.output = temp_dir("quantize-transformer") + "/seq2seq.pt";
  auto r = mlopt::quantize(o, {});
  // Encoder layer 4; decoder self-attention 2, cross-attention q, kv and out 3, linear1/2 2; head 1.
  CHECK(count_op(r, "quantized::linear_dynamic") == 12);
  CHECK(r.output_sqnr_db > 20.0);
  auto q = mlopt::load_torchscript(o.output);
  auto ops = mlopt::quant::executed_ops(q, {at::randint(1, 20, {3, 8}, at::kLong)});
  CHECK(count(ops, "aten::linear") == 0);
  CHECK(count(ops, "aten::_transformer_encoder_layer_fwd") == 0);
  CHECK(count(ops, "aten::_native_multi_head_attention") == 0);
}
