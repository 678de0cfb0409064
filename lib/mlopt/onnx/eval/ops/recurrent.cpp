// LSTM, GRU and RNN as ONNX defines them (gate orders iofc and zrh, layout 0,
// forward/reverse/bidirectional), step by step with ATen.
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;
using Activation = std::function<at::Tensor(const at::Tensor&)>;

Activation activation(const OpContext& c, const std::string& name) {
  if (name == "Sigmoid") return [](const at::Tensor& x) { return at::sigmoid(x); };
  if (name == "Tanh") return [](const at::Tensor& x) { return at::tanh(x); };
  if (name == "Relu") return [](const at::Tensor& x) { return at::relu(x); };
  c.fail("recurrent activation '" + name + "' is not supported (Sigmoid, Tanh, Relu)");
}

std::vector<Activation> activations(const OpContext& c, std::vector<std::string> defaults, int64_t directions) {
  std::vector<std::string> names;
  if (const auto* a = c.attribute("activations"))
    for (const auto& s : a->strings()) names.push_back(s);
  if (names.empty())
    for (int64_t d = 0; d < directions; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  std::vector<Activation> out;
  for (const auto& n : names) out.push_back(activation(c, n));
  return out;
}

struct RnnSetup {
  int64_t directions, hidden, seq, batch;
  bool reverse_only;
};

RnnSetup setup(const OpContext& c) {
  const auto& x = c.input(0);
  if (c.attr_int("layout", 0) != 0) c.fail("layout=1 is not supported");
  if (c.has_attr("clip")) c.fail("'clip' is not supported");
  std::string dir = c.attr_string("direction", "forward");
  RnnSetup s{dir == "bidirectional" ? 2 : 1, c.attr_int("hidden_size", 0), x.size(0), x.size(1), dir == "reverse"};
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional") c.fail("unknown direction '" + dir + "'");
  if (s.hidden <= 0) s.hidden = c.input(2).size(2);
  if (c.has_input(4)) {
    auto lens = c.input(4);
    if ((lens != s.seq).any().item<bool>()) c.fail("sequence_lens shorter than the sequence are not supported");
  }
  return s;
}

// Runs one direction: `step(x_t, state) -> state` over time, collecting h.
template <typename Step>
at::Tensor scan(const at::Tensor& x, bool reverse, Step&& step) {
  int64_t seq = x.size(0);
  std::vector<at::Tensor> hs(static_cast<size_t>(seq));
  for (int64_t k = 0; k < seq; ++k) {
    int64_t t = reverse ? seq - 1 - k : k;
    hs[static_cast<size_t>(t)] = step(x[t]);
  }
  return at::stack(hs);  // [seq, batch, hidden]
}

Ts lstm(OpContext& c) {
  auto s = setup(c);
  const auto &x = c.input(0), &W = c.input(1), &R = c.input(2);
  if (c.attr_int("input_forget", 0)) c.fail("input_forget=1 is not supported");
  auto acts = activations(c, {"Sigmoid", "Tanh", "Tanh"}, s.directions);
  int64_t H = s.hidden;
  std::vector<at::Tensor> ys, hs, cs;
  for (int64_t d = 0; d < s.directions; ++d) {
    auto w = W[d], r = R[d];
    at::Tensor bias = c.has_input(3) ? c.input(3)[d].slice(0, 0, 4 * H) + c.input(3)[d].slice(0, 4 * H) : at::zeros({4 * H}, x.options());
    at::Tensor h = c.has_input(5) ? c.input(5)[d] : at::zeros({s.batch, H}, x.options());
    at::Tensor cell = c.has_input(6) ? c.input(6)[d] : at::zeros({s.batch, H}, x.options());
    at::Tensor p = c.has_input(7) ? c.input(7)[d] : at::Tensor();
    const auto &f = acts[3 * d], &g = acts[3 * d + 1], &hact = acts[3 * d + 2];
    bool reverse = s.reverse_only || d == 1;
    auto y = scan(x, reverse, [&](const at::Tensor& xt) {
      auto gates = at::matmul(xt, w.t()) + at::matmul(h, r.t()) + bias;
      auto chunks = gates.chunk(4, 1);  // i, o, f, c
      auto i = chunks[0], o = chunks[1], fg = chunks[2], cc = chunks[3];
      if (p.defined()) {
        i = i + p.slice(0, 0, H) * cell;
        fg = fg + p.slice(0, 2 * H, 3 * H) * cell;
      }
      i = f(i);
      fg = f(fg);
      cell = fg * cell + i * g(cc);
      if (p.defined()) o = o + p.slice(0, H, 2 * H) * cell;
      h = f(o) * hact(cell);
      return h;
    });
    ys.push_back(y);
    hs.push_back(h);
    cs.push_back(cell);
  }
  return {at::stack(ys, 1), at::stack(hs), at::stack(cs)};
}

Ts gru(OpContext& c) {
  auto s = setup(c);
  const auto &x = c.input(0), &W = c.input(1), &R = c.input(2);
  auto acts = activations(c, {"Sigmoid", "Tanh"}, s.directions);
  bool linear_before_reset = c.attr_int("linear_before_reset", 0) != 0;
  int64_t H = s.hidden;
  std::vector<at::Tensor> ys, hs;
  for (int64_t d = 0; d < s.directions; ++d) {
    auto w = W[d], r = R[d];
    at::Tensor wb = c.has_input(3) ? c.input(3)[d].slice(0, 0, 3 * H) : at::zeros({3 * H}, x.options());
    at::Tensor rb = c.has_input(3) ? c.input(3)[d].slice(0, 3 * H) : at::zeros({3 * H}, x.options());
    at::Tensor h = c.has_input(5) ? c.input(5)[d] : at::zeros({s.batch, H}, x.options());
    const auto &f = acts[2 * d], &g = acts[2 * d + 1];
    bool reverse = s.reverse_only || d == 1;
    auto rz = r.slice(0, 0, H), rr = r.slice(0, H, 2 * H), rh = r.slice(0, 2 * H);
    auto y = scan(x, reverse, [&](const at::Tensor& xt) {
      auto xg = (at::matmul(xt, w.t()) + wb).chunk(3, 1);  // z, r, h
      auto z = f(xg[0] + at::matmul(h, rz.t()) + rb.slice(0, 0, H));
      auto rg = f(xg[1] + at::matmul(h, rr.t()) + rb.slice(0, H, 2 * H));
      at::Tensor cand;
      if (linear_before_reset) cand = g(xg[2] + rg * (at::matmul(h, rh.t()) + rb.slice(0, 2 * H)));
      else cand = g(xg[2] + at::matmul(rg * h, rh.t()) + rb.slice(0, 2 * H));
      h = (1 - z) * cand + z * h;
      return h;
    });
    ys.push_back(y);
    hs.push_back(h);
  }
  return {at::stack(ys, 1), at::stack(hs)};
}

Ts rnn(OpContext& c) {
  auto s = setup(c);
  const auto &x = c.input(0), &W = c.input(1), &R = c.input(2);
  auto acts = activations(c, {"Tanh"}, s.directions);
  int64_t H = s.hidden;
  std::vector<at::Tensor> ys, hs;
  for (int64_t d = 0; d < s.directions; ++d) {
    auto w = W[d], r = R[d];
    at::Tensor bias = c.has_input(3) ? c.input(3)[d].slice(0, 0, H) + c.input(3)[d].slice(0, H) : at::zeros({H}, x.options());
    at::Tensor h = c.has_input(5) ? c.input(5)[d] : at::zeros({s.batch, H}, x.options());
    bool reverse = s.reverse_only || d == 1;
    auto y = scan(x, reverse, [&](const at::Tensor& xt) {
      h = acts[d](at::matmul(xt, w.t()) + at::matmul(h, r.t()) + bias);
      return h;
    });
    ys.push_back(y);
    hs.push_back(h);
  }
  return {at::stack(ys, 1), at::stack(hs)};
}

}  // namespace

REGISTER_ONNX_OP({"LSTM"}, lstm);
REGISTER_ONNX_OP({"GRU"}, gru);
REGISTER_ONNX_OP({"RNN"}, rnn);

}  // namespace mlopt::onnx_eval
