// nn.Linear, nn.Identity, nn.Flatten, nn.Dropout.
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

torch::jit::Module build_linear(const LayerArgs& a, LayerContext& ctx) {
  int64_t in = a.integer("in_features"), out = a.integer("out_features");
  auto m = new_module(ctx, "torch.nn.modules.linear.Linear");
  // kaiming_uniform_(a=sqrt(5)) gives bound 1/sqrt(fan_in), as does the bias.
  double bound = in > 0 ? 1.0 / std::sqrt(double(in)) : 0.0;
  m.register_parameter("weight", uniform_tensor(ctx, {out, in}, bound), false);
  bool bias = a.boolean("bias");
  if (bias) m.register_parameter("bias", uniform_tensor(ctx, {out}, bound), false);
  define_methods(ctx, m, fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                                "    return torch.linear(input, self.weight, {})\n",
                                bias ? "self.bias" : "None"),
                 "Linear");
  return m;
}

torch::jit::Module build_identity(const LayerArgs&, LayerContext& ctx) {
  auto m = new_module(ctx, "torch.nn.modules.linear.Identity");
  define_methods(ctx, m, "def forward(self, input: Tensor) -> Tensor:\n    return input\n", "Identity");
  return m;
}

torch::jit::Module build_flatten(const LayerArgs& a, LayerContext& ctx) {
  auto m = new_module(ctx, "torch.nn.modules.flatten.Flatten");
  define_methods(ctx, m, fmt::format("def forward(self, input: Tensor) -> Tensor:\n    return torch.flatten(input, {}, {})\n",
                                a.integer("start_dim"), a.integer("end_dim")),
                 "Flatten");
  return m;
}

torch::jit::Module build_dropout(const LayerArgs& a, LayerContext& ctx) {
  double p = a.real("p");
  if (p < 0 || p > 1) fail("nn.Dropout: p must be in [0, 1], got {}", p);
  auto m = new_module(ctx, "torch.nn.modules.dropout." + a.layer());
  std::string op = a.layer() == "Dropout2d" ? "feature_dropout" : "dropout";
  define_methods(ctx, m, fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                                "    return torch.{}(input, {}, self.training)\n",
                                op, PyValue::real(p).repr()),
                 a.layer());
  return m;
}

}  // namespace

MLOPT_REGISTER_LAYER("Linear", "in_features, out_features, bias=True, device=None, dtype=None", build_linear);
MLOPT_REGISTER_LAYER("Identity", "", build_identity);
MLOPT_REGISTER_LAYER("Flatten", "start_dim=1, end_dim=-1", build_flatten);
MLOPT_REGISTER_LAYER("Dropout", "p=0.5, inplace=False", build_dropout);
MLOPT_REGISTER_LAYER("Dropout2d", "p=0.5, inplace=False", build_dropout);

}  // namespace mlopt::script
