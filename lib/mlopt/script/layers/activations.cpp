// Activation layers: ReLU, ReLU6, LeakyReLU, GELU, SiLU, Sigmoid, Tanh, Hardswish, Hardsigmoid, Softmax,
// LogSoftmax, ELU, SELU, CELU, Softplus, Softsign, Mish, Hardtanh, LogSigmoid, Tanhshrink, Threshold, GLU,
// Softmin, PReLU.
#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

// A layer whose forward is one expression of `input` (and its arguments).
LayerBuilder activation(std::string python_class, std::function<std::string(const LayerArgs&)> expression) {
  return [python_class, expression](const LayerArgs& a, LayerContext& ctx) {
    auto m = new_module(ctx, python_class);
    define_methods(ctx, m, "def forward(self, input: Tensor) -> Tensor:\n    return " + expression(a) + "\n", a.layer());
    return m;
  };
}

std::string real(const LayerArgs& a, const std::string& name) { return PyValue::real(a.real(name)).repr(); }

// `op(args)`, or `op_(args)` for a layer made with inplace=True: as in PyTorch,
// the caller's later reads of the input then see the write (`act(x) + x` is
// twice the activation).
std::string maybe_in_place(const LayerArgs& a, const std::string& op, const std::string& args) {
  return op + (a.boolean("inplace") ? "_(" : "(") + args + ")";
}

// nn.PReLU: one learned slope per channel (or one for all), initialized to `init`.
torch::jit::Module build_prelu(const LayerArgs& a, LayerContext& ctx) {
  int64_t n = a.integer("num_parameters");
  if (n < 1) fail("nn.PReLU: num_parameters must be at least 1, got {}", n);
  auto m = new_module(ctx, "torch.nn.modules.activation.PReLU");
  m.register_parameter("weight", ones_tensor(ctx, {n}).mul_(a.real("init")), false);
  define_methods(ctx, m, "def forward(self, input: Tensor) -> Tensor:\n    return torch.prelu(input, self.weight)\n",
                 "PReLU");
  return m;
}

}  // namespace

MLOPT_REGISTER_LAYER("ReLU", "inplace=False",
                     activation("torch.nn.modules.activation.ReLU", [](const LayerArgs& a) { return maybe_in_place(a, "torch.relu", "input"); }));
MLOPT_REGISTER_LAYER("ReLU6", "inplace=False", activation("torch.nn.modules.activation.ReLU6", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.hardtanh", "input, 0.0, 6.0");
                     }));
MLOPT_REGISTER_LAYER("LeakyReLU", "negative_slope=0.01, inplace=False",
                     activation("torch.nn.modules.activation.LeakyReLU", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.leaky_relu", "input, " + real(a, "negative_slope"));
                     }));
MLOPT_REGISTER_LAYER("GELU", "approximate='none'", activation("torch.nn.modules.activation.GELU", [](const LayerArgs& a) {
                       std::string mode = a.text("approximate");
                       if (mode != "none" && mode != "tanh") fail("nn.GELU: approximate must be 'none' or 'tanh'");
                       return "torch.gelu(input, approximate=" + PyValue::str(mode).repr() + ")";
                     }));
MLOPT_REGISTER_LAYER("SiLU", "inplace=False",
                     activation("torch.nn.modules.activation.SiLU", [](const LayerArgs& a) { return maybe_in_place(a, "torch.silu", "input"); }));
MLOPT_REGISTER_LAYER("Sigmoid", "",
                     activation("torch.nn.modules.activation.Sigmoid", [](auto&) { return "torch.sigmoid(input)"; }));
MLOPT_REGISTER_LAYER("Tanh", "", activation("torch.nn.modules.activation.Tanh", [](auto&) { return "torch.tanh(input)"; }));
MLOPT_REGISTER_LAYER("Hardswish", "inplace=False", activation("torch.nn.modules.activation.Hardswish", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.hardswish", "input");
                     }));
MLOPT_REGISTER_LAYER("Hardsigmoid", "inplace=False", activation("torch.nn.modules.activation.Hardsigmoid", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.hardsigmoid", "input");
                     }));
MLOPT_REGISTER_LAYER("Softmax", "dim=None", activation("torch.nn.modules.activation.Softmax", [](const LayerArgs& a) {
                       if (a.is_none("dim")) fail("nn.Softmax: give dim explicitly (the implicit dim is deprecated)");
                       return "torch.softmax(input, " + std::to_string(a.integer("dim")) + ")";
                     }));
MLOPT_REGISTER_LAYER("LogSoftmax", "dim=None", activation("torch.nn.modules.activation.LogSoftmax", [](const LayerArgs& a) {
                       if (a.is_none("dim")) fail("nn.LogSoftmax: give dim explicitly (the implicit dim is deprecated)");
                       return "torch.log_softmax(input, " + std::to_string(a.integer("dim")) + ")";
                     }));

MLOPT_REGISTER_LAYER("ELU", "alpha=1.0, inplace=False", activation("torch.nn.modules.activation.ELU", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.elu", "input, " + real(a, "alpha"));
                     }));
MLOPT_REGISTER_LAYER("SELU", "inplace=False",
                     activation("torch.nn.modules.activation.SELU", [](const LayerArgs& a) { return maybe_in_place(a, "torch.selu", "input"); }));
MLOPT_REGISTER_LAYER("CELU", "alpha=1.0, inplace=False", activation("torch.nn.modules.activation.CELU", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.celu", "input, " + real(a, "alpha"));
                     }));
MLOPT_REGISTER_LAYER("Softplus", "beta=1.0, threshold=20.0",
                     activation("torch.nn.modules.activation.Softplus", [](const LayerArgs& a) {
                       return "torch.softplus(input, " + real(a, "beta") + ", " + real(a, "threshold") + ")";
                     }));
MLOPT_REGISTER_LAYER("Softsign", "", activation("torch.nn.modules.activation.Softsign", [](auto&) {
                       return "torch.div(input, torch.add(torch.abs(input), 1))";
                     }));
MLOPT_REGISTER_LAYER("Mish", "inplace=False",
                     activation("torch.nn.modules.activation.Mish", [](const LayerArgs& a) { return maybe_in_place(a, "torch.mish", "input"); }));
MLOPT_REGISTER_LAYER("Hardtanh", "min_val=-1.0, max_val=1.0, inplace=False",
                     activation("torch.nn.modules.activation.Hardtanh", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.hardtanh", "input, " + real(a, "min_val") + ", " + real(a, "max_val"));
                     }));
MLOPT_REGISTER_LAYER("LogSigmoid", "", activation("torch.nn.modules.activation.LogSigmoid", [](auto&) {
                       return "torch.log_sigmoid(input)";
                     }));
MLOPT_REGISTER_LAYER("Tanhshrink", "", activation("torch.nn.modules.activation.Tanhshrink", [](auto&) {
                       return "torch.sub(input, torch.tanh(input))";
                     }));
MLOPT_REGISTER_LAYER("Threshold", "threshold, value, inplace=False",
                     activation("torch.nn.modules.activation.Threshold", [](const LayerArgs& a) {
                       return maybe_in_place(a, "torch.threshold", "input, " + real(a, "threshold") + ", " + real(a, "value"));
                     }));
MLOPT_REGISTER_LAYER("GLU", "dim=-1", activation("torch.nn.modules.activation.GLU", [](const LayerArgs& a) {
                       return "torch.glu(input, " + std::to_string(a.integer("dim")) + ")";
                     }));
MLOPT_REGISTER_LAYER("Softmin", "dim=None", activation("torch.nn.modules.activation.Softmin", [](const LayerArgs& a) {
                       if (a.is_none("dim")) fail("nn.Softmin: give dim explicitly (the implicit dim is deprecated)");
                       return "torch.softmax(torch.neg(input), " + std::to_string(a.integer("dim")) + ")";
                     }));
MLOPT_REGISTER_LAYER("PReLU", "num_parameters=1, init=0.25, device=None, dtype=None", build_prelu);

}  // namespace mlopt::script
