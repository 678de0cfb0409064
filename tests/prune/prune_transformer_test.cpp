// prune --method channel on PyTorch's transformer modules: attention heads and
// feed-forward channels of nn.TransformerEncoderLayer removed physically, then
// dynamic int8 of the pruned model (fixtures:
// tests/fixtures/make_prune_transformer_fixtures.py: 2 layers, 64 wide, 4 heads, FF 256).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <fstream>

#include "mlopt/core/model_io.h"
#include "mlopt/prune/prune.h"
#include "mlopt/quantize/executed_ops.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

constexpr int64_t kWidth = 64, kHeads = 4, kHeadDim = 16, kFF = 256, kLayers = 2;
const char* kInput = "tokens:batch=8x12:int64:0..20";

// Right-padded token batches of `length` (token 0 is padding in the fixtures);
// row 0 is unpadded (torch 1.13's fused encoder path returns the batch cut to
// its longest row).
at::Tensor padded_tokens(int64_t batch, int64_t length, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto tokens = at::randint(1, 20, {batch, length}, gen, at::kLong);
  for (int64_t i = 1; i < batch; ++i) {
    int64_t len = 1 + (i * 7 + 3) % length;
    if (len < length) tokens[i].slice(0, len).zero_();
  }
  return tokens;
}

torch::jit::Module submodule(torch::jit::Module m, const std::string& path) {
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    m = m.attr(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start)).toModule();
    if (dot == std::string::npos) return m;
    start = dot + 1;
  }
}

// The encoder layers of both fixtures.
std::string layer_path(const std::string& fixture, int64_t i) {
  return (fixture == "transformer_encoder.pt" ? "encoder.layers." : "layers.") + std::to_string(i);
}

// Zeroes head 1 (its q, k, v rows and out_proj columns) and 77 feed-forward
// channels (linear1 rows and bias, linear2 columns) of every layer: pruning
// 30% of the channels and a quarter of the heads must remove exactly those,
// and the pruned model must then compute what this one does.
std::string silenced_copy(const std::string& fixture, const std::string& dir) {
  auto m = mlopt::load_torchscript(test_data("prune/" + fixture));
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < kLayers; ++i) {
    auto layer = submodule(m, layer_path(fixture, i));
    auto attn = layer.attr("self_attn").toModule();
    auto in_w = attn.attr("in_proj_weight").toTensor();
    auto in_b = attn.attr("in_proj_bias").toTensor();
    for (int64_t part = 0; part < 3; ++part) {
      in_w.slice(0, part * kWidth + kHeadDim, part * kWidth + 2 * kHeadDim).zero_();
      in_b.slice(0, part * kWidth + kHeadDim, part * kWidth + 2 * kHeadDim).zero_();
    }
    attn.attr("out_proj").toModule().attr("weight").toTensor().slice(1, kHeadDim, 2 * kHeadDim).zero_();
    for (int64_t c = 0; c < 77; ++c) {
      layer.attr("linear1").toModule().attr("weight").toTensor()[3 * c].zero_();
      layer.attr("linear1").toModule().attr("bias").toTensor()[3 * c].zero_();
      layer.attr("linear2").toModule().attr("weight").toTensor().select(1, 3 * c).zero_();
    }
  }
  std::string path = dir + "/silenced_" + fixture;
  m.save(path);
  return path;
}

mlopt::PruneOptions channel_options(const std::string& model, const std::string& out) {
  mlopt::PruneOptions o;
  o.model.path = model;
  o.method = "channel";
  o.amount = 0.3;
  o.inputs = {kInput};
  o.output = out;
  return o;
}

// Parameters of one layer with `heads` heads of 16 and a feed-forward `ff` wide.
int64_t layer_parameters(int64_t heads, int64_t ff) {
  int64_t inner = heads * kHeadDim;
  int64_t attention = 3 * inner * kWidth + 3 * inner + kWidth * inner + kWidth;
  int64_t feed_forward = ff * kWidth + ff + kWidth * ff + kWidth;
  return attention + feed_forward + 4 * kWidth;  // two LayerNorms
}

int64_t count(const std::map<std::string, int64_t>& ops, const std::string& op) {
  auto it = ops.find(op);
  return it == ops.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("prune transformer: 30% of the feed-forward channels and one head of four go, parameters as computed",
          "[prune-transformer]") {
  auto dir = temp_dir("prune_transformer");
  auto r = mlopt::prune(channel_options(test_data("prune/transformer_encoder.pt"), dir + "/p.pt"), {});
  REQUIRE(r.attention.size() == kLayers);
  for (const auto& a : r.attention) {
    CHECK(a.heads_before == kHeads);
    CHECK(a.heads_after == 3);
    CHECK(a.head_dim == kHeadDim);
  }
  int64_t kept_ff = kFF - 77;  // round(0.3 * 256)
  CHECK(r.params_before - r.params_after == kLayers * (layer_parameters(kHeads, kFF) - layer_parameters(3, kept_ff)));
  for (const auto& l : r.layers)
    if (l.name == "encoder.layers.0.linear1") CHECK(l.shape_after == std::vector<int64_t>{kept_ff, kWidth});
  CHECK(r.artifact_verified);
  auto text = r.to_text();
  CHECK_THAT(text, Catch::Contains("encoder.layers.1.self_attn") && Catch::Contains("4x16") && Catch::Contains("3x16"));
  auto j = r.to_json();
  CHECK(j["attention"][0]["inner_after"] == 48);
}

TEST_CASE("prune transformer: the pruned model computes what the original does without the removed heads and "
          "channels, at several lengths with padding", "[prune-transformer]") {
  auto dir = temp_dir("prune_transformer");
  for (std::string fixture : {"transformer_encoder.pt", "transformer_encoder_seq_first.pt"}) {
    INFO(fixture);
    auto silenced = silenced_copy(fixture, dir);
    auto out = dir + "/pruned_" + fixture;
    auto r = mlopt::prune(channel_options(silenced, out), {});
    CHECK(r.params_after == r.params_before - kLayers * (layer_parameters(4, kFF) - layer_parameters(3, kFF - 77)));
    auto original = mlopt::load_torchscript(silenced);
    auto pruned = mlopt::load_torchscript(out);
    original.eval();
    pruned.eval();
    for (int64_t length : {3, 12, 40}) {
      auto tokens = padded_tokens(5, length, 10 + length);
      auto a = mlopt::run_module(original, {tokens})[0];
      auto b = mlopt::run_module(pruned, {tokens})[0];
      REQUIRE(b.sizes() == a.sizes());
      CHECK((a - b).abs().max().item<double>() < 1e-4);
    }
  }
}

TEST_CASE("prune transformer: --head-amount 0 keeps the heads, --head-amount out of range is a usage error",
          "[prune-transformer]") {
  auto dir = temp_dir("prune_transformer");
  auto o = channel_options(test_data("prune/transformer_encoder.pt"), dir + "/f.pt");
  o.head_amount = 0;
  auto r = mlopt::prune(o, {});
  for (const auto& a : r.attention) CHECK(a.heads_after == kHeads);
  CHECK(r.params_before - r.params_after == kLayers * (layer_parameters(4, kFF) - layer_parameters(4, kFF - 77)));
  auto bad = run_mlopt({"prune", test_data("prune/transformer_encoder.pt"), "--method", "channel", "--input", kInput,
                        "--head-amount", "1", "-o", dir + "/x.pt"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("mlopt: error: --head-amount 1") && Catch::Contains("[0, 1)"));
}

TEST_CASE("prune transformer: the pruned .pt loads in a fresh process and quantizes dynamic, every projection "
          "int8 where it runs", "[prune-transformer]") {
  auto dir = temp_dir("prune_transformer");
  auto pruned = dir + "/pruned.pt", int8 = dir + "/pruned_int8.pt";
  auto p = run_mlopt({"prune", test_data("prune/transformer_encoder.pt"), "--method", "channel", "--amount", "0.3",
                      "--input", kInput, "-o", pruned, "--json"});
  REQUIRE(p.exit_code == 0);
  CHECK(nlohmann::json::parse(p.out)["attention"][1]["heads_after"] == 3);
  auto q = run_mlopt({"quantize", pruned, "--mode", "dynamic", "--input", kInput, "--no-latency", "-o", int8,
                      "--json"});
  REQUIRE(q.exit_code == 0);
  auto j = nlohmann::json::parse(q.out);
  // in_proj, out_proj, linear1, linear2 of both layers and the head.
  CHECK(j["quantized_ops"]["quantized::linear_dynamic"] == 9);
  auto model = mlopt::load_torchscript(int8);
  model.eval();
  auto ops = mlopt::quant::executed_ops(model, {padded_tokens(4, 12, 3)});
  CHECK(count(ops, "quantized::linear_dynamic") == 9);
  CHECK(count(ops, "aten::linear") == 0);
  auto float_model = mlopt::load_torchscript(pruned);
  auto float_out = mlopt::run_module(float_model, {padded_tokens(6, 20, 4)})[0];
  auto int8_out = mlopt::run_module(model, {padded_tokens(6, 20, 4)})[0];
  double cosine = (float_out.flatten() * int8_out.flatten()).sum().item<double>() /
                  (float_out.norm().item<double>() * int8_out.norm().item<double>());
  CHECK(cosine > 0.99);
}

TEST_CASE("prune transformer: a decoder's cross-attention keeps its heads, its self-attention and feed-forward "
          "lose theirs", "[prune-transformer]") {
  auto dir = temp_dir("prune_transformer");
  mlopt::PruneOptions o = channel_options(test_data("quantize_seq2seq.pt"), dir + "/s2s.pt");
  o.inputs = {"tokens:batch=4x8:int64:1..20"};
  auto r = mlopt::prune(o, {});
  std::map<std::string, int64_t> heads;
  for (const auto& a : r.attention) heads[a.name] = a.heads_after;
  CHECK(heads == std::map<std::string, int64_t>{
                     {"encoder.self_attn", 3}, {"decoder.self_attn", 3}, {"decoder.multihead_attn", 4}});
  bool reason = false;
  for (const auto& s : r.skipped)
    reason = reason || (s.layers == std::vector<std::string>{"decoder.multihead_attn"} &&
                        s.reason.find("cross-attention") != std::string::npos);
  CHECK(reason);
  auto pruned = mlopt::load_torchscript(dir + "/s2s.pt");
  pruned.eval();
  for (int64_t length : {3, 8, 21}) {
    auto out = mlopt::run_module(pruned, {at::randint(1, 20, {3, length}, at::kLong)})[0];
    CHECK(out.sizes() == at::IntArrayRef{3, 3});
    CHECK(out.isfinite().all().item<bool>());
  }
}
