// nn.LSTM, nn.GRU and nn.RNN over aten::lstm / aten::gru / aten::rnn_tanh|relu with flat weights
// (weight_ih_l{k}[_reverse], weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}).
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

enum class RecurrentKind { lstm, gru, rnn };

// The ATen op of a GRU or RNN layer (an LSTM has its own state pair).
std::string single_state_op(const LayerArgs& a, RecurrentKind cell) {
  if (cell == RecurrentKind::gru) return "torch.gru";
  std::string nonlinearity = a.text("nonlinearity");
  if (nonlinearity != "tanh" && nonlinearity != "relu")
    fail("nn.RNN: nonlinearity '{}': expected 'tanh' or 'relu'", nonlinearity);
  return "torch.rnn_" + nonlinearity;
}

torch::jit::Module build_rnn(const LayerArgs& a, LayerContext& ctx, RecurrentKind cell) {
  bool lstm = cell == RecurrentKind::lstm;
  int64_t input = a.integer("input_size"), hidden = a.integer("hidden_size"), layers = a.integer("num_layers");
  bool bias = a.boolean("bias"), batch_first = a.boolean("batch_first"), bidirectional = a.boolean("bidirectional");
  if (lstm && a.integer("proj_size") != 0) fail("nn.LSTM: proj_size is not supported");
  if (layers < 1 || hidden < 1) fail("nn.{}: num_layers and hidden_size must be positive", a.layer());
  int64_t gates = lstm ? 4 : cell == RecurrentKind::gru ? 3 : 1, directions = bidirectional ? 2 : 1;
  std::string op = lstm ? "torch.lstm" : single_state_op(a, cell);
  auto m = new_module(ctx, "torch.nn.modules.rnn." + a.layer());
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (int64_t d = 0; d < directions; ++d) {
      std::string suffix = "_l" + std::to_string(layer) + (d ? "_reverse" : "");
      int64_t in = layer == 0 ? input : hidden * directions;
      shapes.push_back({"weight_ih" + suffix, {gates * hidden, in}});
      shapes.push_back({"weight_hh" + suffix, {gates * hidden, hidden}});
      if (bias) {
        shapes.push_back({"bias_ih" + suffix, {gates * hidden}});
        shapes.push_back({"bias_hh" + suffix, {gates * hidden}});
      }
    }
  }
  // PyTorch: every weight uniform(-1/sqrt(hidden), 1/sqrt(hidden)), in registration order.
  double bound = 1.0 / std::sqrt(double(hidden));
  std::string flat = "[";
  for (auto& [name, shape] : shapes) {
    m.register_parameter(name, uniform_tensor(ctx, shape, bound), false);
    flat += (flat.size() > 1 ? ", self." : "self.") + name;
  }
  flat += "]";
  std::string batch_dim = batch_first ? "0" : "1";
  std::string args = fmt::format("{}, {}, {}, {}, self.training, {}, {}", flat, bias ? "True" : "False", layers,
                                 PyValue::real(a.real("dropout")).repr(), bidirectional ? "True" : "False",
                                 batch_first ? "True" : "False");
  std::string zeros = fmt::format("torch.zeros([{}, input.size({}), {}], dtype=input.dtype, device=input.device)",
                                  layers * directions, batch_dim, hidden);
  std::string source;
  if (lstm) {
    source = fmt::format(
        "def forward(self, input: Tensor, hx: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:\n"
        "    if hx is None:\n"
        "        h0 = {0}\n"
        "        c0 = {0}\n"
        "    else:\n"
        "        h0, c0 = hx\n"
        "    output, hn, cn = torch.lstm(input, [h0, c0], {1})\n"
        "    return output, (hn, cn)\n",
        zeros, args);
  } else {
    source = fmt::format(
        "def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:\n"
        "    if hx is None:\n"
        "        h0 = {0}\n"
        "    else:\n"
        "        h0 = hx\n"
        "    output, hn = {2}(input, h0, {1})\n"
        "    return output, hn\n",
        zeros, args, op);
  }
  define_methods(ctx, m, source, a.layer());
  return m;
}

}  // namespace

MLOPT_REGISTER_LAYER("LSTM",
                     "input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, "
                     "bidirectional=False, proj_size=0, device=None, dtype=None",
                     [](const LayerArgs& a, LayerContext& c) { return build_rnn(a, c, RecurrentKind::lstm); });
MLOPT_REGISTER_LAYER("GRU",
                     "input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, "
                     "bidirectional=False, device=None, dtype=None",
                     [](const LayerArgs& a, LayerContext& c) { return build_rnn(a, c, RecurrentKind::gru); });
MLOPT_REGISTER_LAYER("RNN",
                     "input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, "
                     "dropout=0.0, bidirectional=False, device=None, dtype=None",
                     [](const LayerArgs& a, LayerContext& c) { return build_rnn(a, c, RecurrentKind::rnn); });

}  // namespace mlopt::script
