// Activation layers: ReLU, ReLU6, LeakyReLU, GELU, SiLU, Sigmoid, Tanh, Hardswish, Hardsigmoid, Softmax.
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

}  // namespace

MLOPT_REGISTER_LAYER("ReLU", "inplace=False",
                     activation("torch.nn.modules.activation.ReLU", [](auto&) { return "torch.relu(input)"; }));
MLOPT_REGISTER_LAYER("ReLU6", "inplace=False", activation("torch.nn.modules.activation.ReLU6", [](auto&) {
                       return "torch.hardtanh(input, 0.0, 6.0)";
                     }));
MLOPT_REGISTER_LAYER("LeakyReLU", "negative_slope=0.01, inplace=False",
                     activation("torch.nn.modules.activation.LeakyReLU", [](const LayerArgs& a) {
                       return "torch.leaky_relu(input, " + real(a, "negative_slope") + ")";
                     }));
MLOPT_REGISTER_LAYER("GELU", "approximate='none'", activation("torch.nn.modules.activation.GELU", [](const LayerArgs& a) {
                       std::string mode = a.text("approximate");
                       if (mode != "none" && mode != "tanh") fail("nn.GELU: approximate must be 'none' or 'tanh'");
                       return "torch.gelu(input, approximate=" + PyValue::str(mode).repr() + ")";
                     }));
MLOPT_REGISTER_LAYER("SiLU", "inplace=False",
                     activation("torch.nn.modules.activation.SiLU", [](auto&) { return "torch.silu(input)"; }));
MLOPT_REGISTER_LAYER("Sigmoid", "",
                     activation("torch.nn.modules.activation.Sigmoid", [](auto&) { return "torch.sigmoid(input)"; }));
MLOPT_REGISTER_LAYER("Tanh", "", activation("torch.nn.modules.activation.Tanh", [](auto&) { return "torch.tanh(input)"; }));
MLOPT_REGISTER_LAYER("Hardswish", "inplace=False", activation("torch.nn.modules.activation.Hardswish", [](auto&) {
                       return "torch.hardswish(input)";
                     }));
MLOPT_REGISTER_LAYER("Hardsigmoid", "inplace=False", activation("torch.nn.modules.activation.Hardsigmoid", [](auto&) {
                       return "torch.hardsigmoid(input)";
                     }));
MLOPT_REGISTER_LAYER("Softmax", "dim=None", activation("torch.nn.modules.activation.Softmax", [](const LayerArgs& a) {
                       if (a.is_none("dim")) fail("nn.Softmax: give dim explicitly (the implicit dim is deprecated)");
                       return "torch.softmax(input, " + std::to_string(a.integer("dim")) + ")";
                     }));
MLOPT_REGISTER_LAYER("LogSoftmax", "dim=None", activation("torch.nn.modules.activation.LogSoftmax", [](const LayerArgs& a) {
                       if (a.is_none("dim")) fail("nn.LogSoftmax: give dim explicitly (the implicit dim is deprecated)");
                       return "torch.log_softmax(input, " + std::to_string(a.integer("dim")) + ")";
                     }));

}  // namespace mlopt::script
