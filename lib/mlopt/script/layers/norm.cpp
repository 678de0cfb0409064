// nn.BatchNorm1d/2d/3d, nn.InstanceNorm1d/2d/3d, nn.LayerNorm, nn.GroupNorm.
#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

torch::jit::Module build_batch_norm(const LayerArgs& a, LayerContext& ctx) {
  int64_t n = a.integer("num_features");
  bool affine = a.boolean("affine"), track = a.boolean("track_running_stats");
  if (!track) fail("nn.{}: track_running_stats=False is not supported", a.layer());
  double momentum = a.is_none("momentum") ? 0.0 : a.real("momentum");
  if (a.is_none("momentum")) fail("nn.{}: momentum=None (cumulative average) is not supported", a.layer());
  auto m = new_module(ctx, "torch.nn.modules.batchnorm." + a.layer());
  if (affine) {
    m.register_parameter("weight", ones_tensor(ctx, {n}), false);
    m.register_parameter("bias", zeros_tensor(ctx, {n}), false);
  }
  m.register_buffer("running_mean", zeros_tensor(ctx, {n}));
  m.register_buffer("running_var", ones_tensor(ctx, {n}));
  m.register_buffer("num_batches_tracked", zeros_tensor(ctx, {}, at::kLong));
  std::string w = affine ? "self.weight" : "None", b = affine ? "self.bias" : "None";
  define_methods(ctx, m,
                 fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                             "    return torch.batch_norm(input, {}, {}, self.running_mean, self.running_var, "
                             "self.training, {}, {}, False)\n",
                             w, b, PyValue::real(momentum).repr(), PyValue::real(a.real("eps")).repr()),
                 a.layer());
  return m;
}

// InstanceNorm: PyTorch's defaults are affine=False and no running statistics
// (each input is normalized by its own mean and variance, in eval mode too).
torch::jit::Module build_instance_norm(const LayerArgs& a, LayerContext& ctx) {
  int64_t n = a.integer("num_features");
  bool affine = a.boolean("affine"), track = a.boolean("track_running_stats");
  auto m = new_module(ctx, "torch.nn.modules.instancenorm." + a.layer());
  if (affine) {
    m.register_parameter("weight", ones_tensor(ctx, {n}), false);
    m.register_parameter("bias", zeros_tensor(ctx, {n}), false);
  }
  if (track) {
    m.register_buffer("running_mean", zeros_tensor(ctx, {n}));
    m.register_buffer("running_var", ones_tensor(ctx, {n}));
    m.register_buffer("num_batches_tracked", zeros_tensor(ctx, {}, at::kLong));
  }
  std::string w = affine ? "self.weight" : "None", b = affine ? "self.bias" : "None";
  std::string stats = track ? "self.running_mean, self.running_var, self.training" : "None, None, True";
  define_methods(ctx, m,
                 fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                             "    return torch.instance_norm(input, {}, {}, {}, {}, {}, False)\n",
                             w, b, stats, PyValue::real(a.is_none("momentum") ? 0.1 : a.real("momentum")).repr(),
                             PyValue::real(a.real("eps")).repr()),
                 a.layer());
  return m;
}

torch::jit::Module build_layer_norm(const LayerArgs& a, LayerContext& ctx) {
  auto shape = a.int_list("normalized_shape");
  bool affine = a.boolean("elementwise_affine");
  auto m = new_module(ctx, "torch.nn.modules.normalization.LayerNorm");
  if (affine) {
    m.register_parameter("weight", ones_tensor(ctx, shape), false);
    m.register_parameter("bias", zeros_tensor(ctx, shape), false);
  }
  std::string w = affine ? "self.weight" : "None", b = affine ? "self.bias" : "None";
  define_methods(ctx, m,
                 fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                             "    return torch.layer_norm(input, {}, {}, {}, {}, False)\n",
                             int_list_literal(shape), w, b, PyValue::real(a.real("eps")).repr()),
                 "LayerNorm");
  return m;
}

torch::jit::Module build_group_norm(const LayerArgs& a, LayerContext& ctx) {
  int64_t groups = a.integer("num_groups"), channels = a.integer("num_channels");
  if (groups <= 0 || channels % groups) fail("nn.GroupNorm: num_channels ({}) must be divisible by num_groups ({})", channels, groups);
  bool affine = a.boolean("affine");
  auto m = new_module(ctx, "torch.nn.modules.normalization.GroupNorm");
  if (affine) {
    m.register_parameter("weight", ones_tensor(ctx, {channels}), false);
    m.register_parameter("bias", zeros_tensor(ctx, {channels}), false);
  }
  std::string w = affine ? "self.weight" : "None", b = affine ? "self.bias" : "None";
  define_methods(ctx, m,
                 fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                             "    return torch.group_norm(input, {}, {}, {}, {}, False)\n",
                             groups, w, b, PyValue::real(a.real("eps")).repr()),
                 "GroupNorm");
  return m;
}

torch::jit::Module build_embedding(const LayerArgs& a, LayerContext& ctx) {
  int64_t num = a.integer("num_embeddings"), dim = a.integer("embedding_dim");
  if (!a.is_none("max_norm")) fail("nn.Embedding: max_norm is not supported");
  int64_t padding_idx = padding_row(a, num);
  auto m = new_module(ctx, "torch.nn.modules.sparse.Embedding");
  auto weight = normal_tensor(ctx, {num, dim});
  if (padding_idx >= 0) weight[padding_idx].zero_();
  m.register_parameter("weight", weight, false);
  define_methods(ctx, m,
                 fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                             "    return torch.embedding(self.weight, input, {}, False, False)\n",
                             padding_idx),
                 "Embedding");
  return m;
}

constexpr const char* kBatchNormSignature =
    "num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None";

}  // namespace

MLOPT_REGISTER_LAYER("BatchNorm1d", kBatchNormSignature, build_batch_norm);
MLOPT_REGISTER_LAYER("BatchNorm2d", kBatchNormSignature, build_batch_norm);
MLOPT_REGISTER_LAYER("LayerNorm", "normalized_shape, eps=1e-05, elementwise_affine=True, device=None, dtype=None",
                     build_layer_norm);
MLOPT_REGISTER_LAYER("GroupNorm", "num_groups, num_channels, eps=1e-05, affine=True, device=None, dtype=None",
                     build_group_norm);
MLOPT_REGISTER_LAYER("Embedding",
                     "num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0, "
                     "scale_grad_by_freq=False, sparse=False, _weight=None, device=None, dtype=None",
                     build_embedding);

MLOPT_REGISTER_LAYER("BatchNorm3d", kBatchNormSignature, build_batch_norm);
MLOPT_REGISTER_LAYER("InstanceNorm1d",
                     "num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None",
                     build_instance_norm);
MLOPT_REGISTER_LAYER("InstanceNorm2d",
                     "num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None",
                     build_instance_norm);
MLOPT_REGISTER_LAYER("InstanceNorm3d",
                     "num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None",
                     build_instance_norm);

}  // namespace mlopt::script
