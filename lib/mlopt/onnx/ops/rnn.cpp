// Recurrent layers: aten::lstm, aten::gru and aten::rnn_tanh/rnn_relu
// (nn.RNN; multi-layer, bidirectional, batch_first) as one ONNX LSTM/GRU/RNN
// per layer. PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n) is reordered to
// ONNX's (LSTM i,o,f,c; GRU z,r,h); a plain RNN has one gate.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

at::Tensor reorder_gates(const at::Tensor& w, const std::vector<int64_t>& order) {
  auto chunks = w.chunk(static_cast<int64_t>(order.size()), 0);
  std::vector<at::Tensor> parts;
  for (auto k : order) parts.push_back(chunks[k]);
  return at::cat(parts, 0);
}

std::vector<at::Tensor> const_tensors(Context& ctx, size_t i) {
  auto v = ctx.in(i);
  std::vector<at::Tensor> out;
  if (v->is_constant()) return v->constant.toTensorVector();
  if (!v->is_list()) ctx.fail_op("expected a list of weight tensors");
  for (auto& item : v->items) {
    if (!item->is_constant() || !item->constant.isTensor()) ctx.fail_op("RNN weights must be constant (frozen parameters)");
    out.push_back(item->constant.toTensor());
  }
  return out;
}

// Rows [first, first+count) of a state tensor [layers*dirs, batch, hidden].
std::string state_rows(Context& ctx, const std::string& h, int64_t first, int64_t count) {
  return ctx.b().add1("Slice", {h, ctx.b().ints({first}), ctx.b().ints({first + count}), ctx.b().ints({0})});
}

enum class Cell { kLstm, kGru, kTanh, kRelu };

void convert_rnn(Context& ctx, Cell cell) {
  bool lstm = cell == Cell::kLstm;
  // lstm(input, hx[h0, c0], params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
  // gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
  auto params = const_tensors(ctx, 2);
  bool has_bias = ctx.to_bool(3);
  int64_t layers = ctx.to_int(4);
  bool bidirectional = ctx.to_bool(7), batch_first = ctx.to_bool(8);
  int64_t dirs = bidirectional ? 2 : 1;
  std::vector<int64_t> order = lstm ? std::vector<int64_t>{0, 3, 1, 2}
                               : cell == Cell::kGru ? std::vector<int64_t>{1, 0, 2} : std::vector<int64_t>{0};
  size_t per_dir = has_bias ? 4 : 2;
  if (params.size() != per_dir * layers * dirs) ctx.fail_op("unexpected number of RNN weights");

  std::string h0, c0;
  if (lstm) {
    auto hx = ctx.in(1);
    if (!hx->is_list() && !hx->is_constant()) ctx.fail_op("expected (h0, c0)");
    std::vector<ValPtr> items = hx->is_list() ? hx->items : std::vector<ValPtr>{};
    if (hx->is_constant())
      for (const auto& t : hx->constant.toTensorVector()) items.push_back(Val::of_constant(t));
    h0 = ctx.materialize(items.at(0));
    c0 = ctx.materialize(items.at(1));
  } else {
    h0 = ctx.tensor(1);
  }

  std::string x = ctx.tensor(0);
  if (batch_first) x = ctx.b().add1("Transpose", {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
  std::vector<std::string> hn, cn;
  for (int64_t l = 0; l < layers; ++l) {
    std::vector<at::Tensor> W, R, B;
    int64_t hidden = 0;
    for (int64_t d = 0; d < dirs; ++d) {
      size_t base = (l * dirs + d) * per_dir;
      at::Tensor w_ih = params[base], w_hh = params[base + 1];
      hidden = w_hh.size(1);
      W.push_back(reorder_gates(w_ih, order));
      R.push_back(reorder_gates(w_hh, order));
      at::Tensor b_ih = has_bias ? params[base + 2] : at::zeros({w_ih.size(0)}, w_ih.options());
      at::Tensor b_hh = has_bias ? params[base + 3] : at::zeros({w_ih.size(0)}, w_ih.options());
      B.push_back(at::cat({reorder_gates(b_ih, order), reorder_gates(b_hh, order)}, 0));
    }
    std::vector<std::string> ins{x, ctx.b().constant(at::stack(W), "rnn_W"), ctx.b().constant(at::stack(R), "rnn_R"),
                                 ctx.b().constant(at::stack(B), "rnn_B"), "", state_rows(ctx, h0, l * dirs, dirs)};
    std::vector<Attr> attrs{{"hidden_size", hidden}, {"direction", bidirectional ? "bidirectional" : "forward"}};
    const char* op = lstm ? "LSTM" : cell == Cell::kGru ? "GRU" : "RNN";
    if (lstm) ins.push_back(state_rows(ctx, c0, l * dirs, dirs));
    if (cell == Cell::kGru) attrs.emplace_back("linear_before_reset", int64_t{1});
    if (cell == Cell::kTanh || cell == Cell::kRelu) {
      std::string f = cell == Cell::kTanh ? "Tanh" : "Relu";
      attrs.emplace_back("activations", std::vector<std::string>(dirs, f));
    }
    auto outs = ctx.b().add_node(op, ins, attrs, lstm ? 3 : 2, lstm ? "lstm" : cell == Cell::kGru ? "gru" : "rnn");
    // Y [seq, dirs, batch, hidden] -> [seq, batch, dirs*hidden]
    std::string y = ctx.b().add1("Transpose", {outs[0]}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
    x = ctx.b().add1("Reshape", {y, ctx.b().ints({0, 0, -1})});
    hn.push_back(outs[1]);
    if (lstm) cn.push_back(outs[2]);
  }
  if (batch_first) x = ctx.b().add1("Transpose", {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
  ctx.set_tensor(0, x);
  auto join = [&](const std::vector<std::string>& v) {
    return v.size() == 1 ? v[0] : ctx.b().add1("Concat", v, {{"axis", int64_t{0}}});
  };
  ctx.set_tensor(1, join(hn));
  if (lstm) ctx.set_tensor(2, join(cn));
}

void convert_lstm(Context& ctx) { convert_rnn(ctx, Cell::kLstm); }
void convert_gru(Context& ctx) { convert_rnn(ctx, Cell::kGru); }
void convert_rnn_tanh(Context& ctx) { convert_rnn(ctx, Cell::kTanh); }
void convert_rnn_relu(Context& ctx) { convert_rnn(ctx, Cell::kRelu); }

}  // namespace

REGISTER_CONVERTER({"aten::lstm"}, convert_lstm);
REGISTER_CONVERTER({"aten::gru"}, convert_gru);
REGISTER_CONVERTER({"aten::rnn_tanh"}, convert_rnn_tanh);
REGISTER_CONVERTER({"aten::rnn_relu"}, convert_rnn_relu);

}  // namespace mlopt::onnx_export
