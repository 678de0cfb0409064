// nn.RNNCell, nn.LSTMCell, nn.GRUCell over aten::rnn_tanh_cell / rnn_relu_cell / lstm_cell / gru_cell
// (weight_ih, weight_hh, bias_ih, bias_hh; unbatched 1-D inputs too).
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

enum class CellKind { Rnn, Lstm, Gru };

torch::jit::Module build_cell(const LayerArgs& a, LayerContext& ctx, CellKind cell) {
  int64_t input = a.integer("input_size"), hidden = a.integer("hidden_size");
  if (input < 1 || hidden < 1) fail("nn.{}: input_size and hidden_size must be positive", a.layer());
  bool bias = a.boolean("bias");
  int64_t gates = cell == CellKind::Lstm ? 4 : cell == CellKind::Gru ? 3 : 1;
  std::string op = "gru_cell";
  if (cell == CellKind::Lstm) op = "lstm_cell";
  if (cell == CellKind::Rnn) {
    std::string nonlinearity = a.text("nonlinearity");
    if (nonlinearity != "tanh" && nonlinearity != "relu")
      fail("nn.RNNCell: nonlinearity must be 'tanh' or 'relu', got '{}'", nonlinearity);
    op = "rnn_" + nonlinearity + "_cell";
  }
  auto m = new_module(ctx, "torch.nn.modules.rnn." + a.layer());
  // PyTorch: every weight uniform(-1/sqrt(hidden), 1/sqrt(hidden)), in registration order.
  double bound = 1.0 / std::sqrt(double(hidden));
  m.register_parameter("weight_ih", uniform_tensor(ctx, {gates * hidden, input}, bound), false);
  m.register_parameter("weight_hh", uniform_tensor(ctx, {gates * hidden, hidden}, bound), false);
  if (bias) {
    m.register_parameter("bias_ih", uniform_tensor(ctx, {gates * hidden}, bound), false);
    m.register_parameter("bias_hh", uniform_tensor(ctx, {gates * hidden}, bound), false);
  }
  std::string weights = bias ? "self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh"
                             : "self.weight_ih, self.weight_hh, None, None";
  std::string zeros = fmt::format("torch.zeros([x.size(0), {}], dtype=input.dtype, device=input.device)", hidden);
  std::string source;
  if (cell == CellKind::Lstm) {
    source = fmt::format(
        "def forward(self, input: Tensor, hx: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, Tensor]:\n"
        "    batched = input.dim() == 2\n"
        "    x = input if batched else input.unsqueeze(0)\n"
        "    if hx is None:\n"
        "        h0 = {0}\n"
        "        c0 = {0}\n"
        "    else:\n"
        "        h0, c0 = hx\n"
        "        if not batched:\n"
        "            h0 = h0.unsqueeze(0)\n"
        "            c0 = c0.unsqueeze(0)\n"
        "    h, c = torch.lstm_cell(x, [h0, c0], {1})\n"
        "    if not batched:\n"
        "        return h.squeeze(0), c.squeeze(0)\n"
        "    return h, c\n",
        zeros, weights);
  } else {
    source = fmt::format(
        "def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tensor:\n"
        "    batched = input.dim() == 2\n"
        "    x = input if batched else input.unsqueeze(0)\n"
        "    if hx is None:\n"
        "        h0 = {0}\n"
        "    else:\n"
        "        h0 = hx if batched else hx.unsqueeze(0)\n"
        "    h = torch.{1}(x, h0, {2})\n"
        "    if not batched:\n"
        "        return h.squeeze(0)\n"
        "    return h\n",
        zeros, op, weights);
  }
  define_methods(ctx, m, source, a.layer());
  return m;
}

}  // namespace

MLOPT_REGISTER_LAYER("RNNCell", "input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None",
                     [](const LayerArgs& a, LayerContext& c) { return build_cell(a, c, CellKind::Rnn); });
MLOPT_REGISTER_LAYER("LSTMCell", "input_size, hidden_size, bias=True, device=None, dtype=None",
                     [](const LayerArgs& a, LayerContext& c) { return build_cell(a, c, CellKind::Lstm); });
MLOPT_REGISTER_LAYER("GRUCell", "input_size, hidden_size, bias=True, device=None, dtype=None",
                     [](const LayerArgs& a, LayerContext& c) { return build_cell(a, c, CellKind::Gru); });

}  // namespace mlopt::script
