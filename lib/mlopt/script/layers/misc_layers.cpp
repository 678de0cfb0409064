// Smaller torch.nn layers: nn.Bilinear, nn.EmbeddingBag, nn.CosineSimilarity,
// nn.PairwiseDistance, nn.ChannelShuffle, nn.LocalResponseNorm and the
// deprecated nn.UpsamplingNearest2d / nn.UpsamplingBilinear2d.
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

torch::jit::Module with_forward(LayerContext& ctx, torch::jit::Module m, const LayerArgs& a, const std::string& source) {
  define_methods(ctx, m, source, a.layer());
  return m;
}

// Weight (out, in1, in2) then bias, both uniform(+-1/sqrt(in1)), as PyTorch initializes them.
torch::jit::Module build_bilinear(const LayerArgs& a, LayerContext& ctx) {
  int64_t in1 = a.integer("in1_features"), in2 = a.integer("in2_features"), out = a.integer("out_features");
  if (in1 < 1 || in2 < 1 || out < 1) fail("nn.Bilinear: the feature sizes must be positive");
  auto m = new_module(ctx, "torch.nn.modules.linear.Bilinear");
  double bound = 1.0 / std::sqrt(double(in1));
  m.register_parameter("weight", uniform_tensor(ctx, {out, in1, in2}, bound), false);
  bool bias = a.boolean("bias");
  if (bias) m.register_parameter("bias", uniform_tensor(ctx, {out}, bound), false);
  return with_forward(ctx, m, a,
                      std::string("def forward(self, input1: Tensor, input2: Tensor) -> Tensor:\n"
                                  "    return torch.bilinear(input1, input2, self.weight, ") +
                          (bias ? "self.bias" : "None") + ")\n");
}

// F.embedding_bag: a 2-D input is one bag per row; a 1-D input is cut into bags at `offsets`.
torch::jit::Module build_embedding_bag(const LayerArgs& a, LayerContext& ctx) {
  int64_t num = a.integer("num_embeddings"), dim = a.integer("embedding_dim");
  if (!a.is_none("max_norm")) fail("nn.EmbeddingBag: max_norm is not supported");
  std::string mode = a.text("mode");
  int mode_code = mode == "sum" ? 0 : mode == "mean" ? 1 : mode == "max" ? 2 : -1;
  if (mode_code < 0) fail("nn.EmbeddingBag: mode '{}': expected 'sum', 'mean' or 'max'", mode);
  int64_t padding_idx = padding_row(a, num);
  auto m = new_module(ctx, "torch.nn.modules.sparse.EmbeddingBag");
  auto weight = normal_tensor(ctx, {num, dim});
  if (padding_idx >= 0) weight[padding_idx].zero_();
  m.register_parameter("weight", weight, false);
  std::string padding = padding_idx >= 0 ? std::to_string(padding_idx) : "None";
  return with_forward(
      ctx, m, a,
      fmt::format("def forward(self, input: Tensor, offsets: Optional[Tensor] = None, "
                  "per_sample_weights: Optional[Tensor] = None) -> Tensor:\n"
                  "    if input.dim() == 2:\n"
                  "        offsets = torch.arange(0, input.numel(), input.size(1), dtype=input.dtype, device=input.device)\n"
                  "        input = input.reshape(-1)\n"
                  "        if per_sample_weights is not None:\n"
                  "            per_sample_weights = per_sample_weights.reshape(-1)\n"
                  "    assert offsets is not None, 'offsets has to be a 1D Tensor but got None'\n"
                  "    return torch.embedding_bag(self.weight, input, offsets, False, {}, False, per_sample_weights, "
                  "{}, {})[0]\n",
                  mode_code, a.boolean("include_last_offset") ? "True" : "False", padding));
}

torch::jit::Module build_cosine_similarity(const LayerArgs& a, LayerContext& ctx) {
  return with_forward(ctx, new_module(ctx, "torch.nn.modules.distance.CosineSimilarity"), a,
                      fmt::format("def forward(self, x1: Tensor, x2: Tensor) -> Tensor:\n"
                                  "    return torch.cosine_similarity(x1, x2, {}, {})\n",
                                  a.integer("dim"), PyValue::real(a.real("eps")).repr()));
}

torch::jit::Module build_pairwise_distance(const LayerArgs& a, LayerContext& ctx) {
  return with_forward(ctx, new_module(ctx, "torch.nn.modules.distance.PairwiseDistance"), a,
                      fmt::format("def forward(self, x1: Tensor, x2: Tensor) -> Tensor:\n"
                                  "    return torch.pairwise_distance(x1, x2, {}, {}, {})\n",
                                  PyValue::real(a.real("p")).repr(), PyValue::real(a.real("eps")).repr(),
                                  a.boolean("keepdim") ? "True" : "False"));
}

torch::jit::Module build_channel_shuffle(const LayerArgs& a, LayerContext& ctx) {
  if (a.integer("groups") < 1) fail("nn.ChannelShuffle: groups must be positive");
  return with_forward(ctx, new_module(ctx, "torch.nn.modules.channelshuffle.ChannelShuffle"), a,
                      fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                                  "    return torch.channel_shuffle(input, {})\n",
                                  a.integer("groups")));
}

// F.local_response_norm: each value divided by (k + alpha * mean of squares over
// `size` neighbouring channels)^beta, the window zero-padded at the ends.
torch::jit::Module build_local_response_norm(const LayerArgs& a, LayerContext& ctx) {
  int64_t size = a.integer("size");
  if (size < 1) fail("nn.LocalResponseNorm: size must be positive");
  std::string alpha = PyValue::real(a.real("alpha")).repr(), beta = PyValue::real(a.real("beta")).repr();
  std::string k = PyValue::real(a.real("k")).repr();
  int64_t before = size / 2, after = (size - 1) / 2;
  return with_forward(
      ctx, new_module(ctx, "torch.nn.modules.normalization.LocalResponseNorm"), a,
      fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                  "    div = input.mul(input).unsqueeze(1)\n"
                  "    if input.dim() == 3:\n"
                  "        div = torch.constant_pad_nd(div, [0, 0, {0}, {1}], 0.0)\n"
                  "        div = torch.avg_pool2d(div, [{2}, 1], [1, 1]).squeeze(1)\n"
                  "    else:\n"
                  "        sizes = input.size()\n"
                  "        div = div.view([sizes[0], 1, sizes[1], sizes[2], -1])\n"
                  "        div = torch.constant_pad_nd(div, [0, 0, 0, 0, {0}, {1}], 0.0)\n"
                  "        div = torch.avg_pool3d(div, [{2}, 1, 1], [1, 1, 1]).squeeze(1)\n"
                  "        div = div.view(sizes)\n"
                  "    div = div.mul({3}).add({4}).pow({5})\n"
                  "    return input / div\n",
                  before, after, size, alpha, k, beta));
}

// nn.UpsamplingNearest2d / nn.UpsamplingBilinear2d: nn.Upsample with the mode
// fixed (bilinear with align_corners=True, as PyTorch defines it).
LayerBuilder fixed_mode_upsample(const std::string& mode) {
  return [mode](const LayerArgs& a, LayerContext& ctx) {
    auto values = a.values();
    values["mode"] = PyValue::str(mode);
    values["align_corners"] = mode == "bilinear" ? PyValue::boolean(true) : PyValue::none();
    values["recompute_scale_factor"] = PyValue::none();
    return find_layer("Upsample")->build(LayerArgs(a.layer(), values), ctx);
  };
}

}  // namespace

MLOPT_REGISTER_LAYER("Bilinear", "in1_features, in2_features, out_features, bias=True, device=None, dtype=None",
                     build_bilinear);
MLOPT_REGISTER_LAYER("EmbeddingBag",
                     "num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, "
                     "mode='mean', sparse=False, _weight=None, include_last_offset=False, padding_idx=None, "
                     "device=None, dtype=None",
                     build_embedding_bag);
MLOPT_REGISTER_LAYER("CosineSimilarity", "dim=1, eps=1e-08", build_cosine_similarity);
MLOPT_REGISTER_LAYER("PairwiseDistance", "p=2.0, eps=1e-06, keepdim=False", build_pairwise_distance);
MLOPT_REGISTER_LAYER("ChannelShuffle", "groups", build_channel_shuffle);
MLOPT_REGISTER_LAYER("LocalResponseNorm", "size, alpha=0.0001, beta=0.75, k=1.0", build_local_response_norm);
MLOPT_REGISTER_LAYER("UpsamplingNearest2d", "size=None, scale_factor=None", fixed_mode_upsample("nearest"));
MLOPT_REGISTER_LAYER("UpsamplingBilinear2d", "size=None, scale_factor=None", fixed_mode_upsample("bilinear"));

}  // namespace mlopt::script
