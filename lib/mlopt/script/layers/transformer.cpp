// nn.TransformerEncoderLayer and nn.TransformerEncoder, built from the layer
// library's MultiheadAttention, Linear, Dropout and LayerNorm with PyTorch's
// submodule names (self_attn, linear1, dropout, linear2, norm1, norm2,
// dropout1, dropout2; layers.N, norm) so a state_dict maps 1:1.
#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

torch::jit::Module sublayer(LayerContext& ctx, const std::string& layer, const PyList& args,
                            const std::vector<std::pair<std::string, PyValue>>& kwargs = {}) {
  const LayerSpec* spec = find_layer(layer);
  if (!spec) fail("internal: no layer '{}'", layer);
  return spec->build(bind_layer_args(*spec, args, kwargs), ctx);
}

// "relu" / "gelu" as a string, F.relu / F.gelu, or nn.ReLU() / nn.GELU() modules.
std::string activation_call(const LayerArgs& a) {
  const PyValue& v = a["activation"];
  std::string name = v.kind == Kind::Str ? v.s
                     : v.kind == Kind::Callable ? v.s.substr(v.s.rfind('.') + 1)
                     : v.kind == Kind::Module ? v.module->kind : "";
  if (name == "relu" || name == "ReLU") return "torch.relu";
  if (name == "gelu" || name == "GELU") return "torch.gelu";
  fail("nn.{}: activation must be 'relu' or 'gelu' (or F.relu / F.gelu)", a.layer());
}

constexpr const char* kEncoderLayerForward = R"(
def forward(self, src: Tensor, src_mask: Optional[Tensor] = None, src_key_padding_mask: Optional[Tensor] = None,
            is_causal: bool = False) -> Tensor:
    x = src
    if NORM_FIRST:
        x = x + self._sa_block(self.norm1.forward(x), src_mask, src_key_padding_mask)
        x = x + self._ff_block(self.norm2.forward(x))
    else:
        x = self.norm1.forward(x + self._sa_block(x, src_mask, src_key_padding_mask))
        x = self.norm2.forward(x + self._ff_block(x))
    return x

def _sa_block(self, x: Tensor, attn_mask: Optional[Tensor], key_padding_mask: Optional[Tensor]) -> Tensor:
    x = self.self_attn.forward(x, x, x, key_padding_mask, False, attn_mask)[0]
    return self.dropout1.forward(x)

def _ff_block(self, x: Tensor) -> Tensor:
    x = self.linear2.forward(self.dropout.forward(ACTIVATION(self.linear1.forward(x))))
    return self.dropout2.forward(x)
)";

torch::jit::Module build_encoder_layer(const LayerArgs& a, LayerContext& ctx) {
  int64_t d_model = a.integer("d_model"), nhead = a.integer("nhead"), ff = a.integer("dim_feedforward");
  double eps = a.real("layer_norm_eps");
  if (!a.boolean("bias")) fail("nn.TransformerEncoderLayer: bias=False is not supported");
  PyValue dropout = PyValue::real(a.real("dropout"));
  auto m = new_module(ctx, "torch.nn.modules.transformer.TransformerEncoderLayer");
  // PyTorch's construction order (it draws the initial values in this order).
  m.register_module("self_attn", sublayer(ctx, "MultiheadAttention", {a["d_model"], a["nhead"]},
                                          {{"dropout", dropout}, {"batch_first", a["batch_first"]}}));
  m.register_module("linear1", sublayer(ctx, "Linear", {PyValue::integer(d_model), PyValue::integer(ff)}));
  m.register_module("dropout", sublayer(ctx, "Dropout", {dropout}));
  m.register_module("linear2", sublayer(ctx, "Linear", {PyValue::integer(ff), PyValue::integer(d_model)}));
  m.register_module("norm1", sublayer(ctx, "LayerNorm", {PyValue::integer(d_model)}, {{"eps", PyValue::real(eps)}}));
  m.register_module("norm2", sublayer(ctx, "LayerNorm", {PyValue::integer(d_model)}, {{"eps", PyValue::real(eps)}}));
  m.register_module("dropout1", sublayer(ctx, "Dropout", {dropout}));
  m.register_module("dropout2", sublayer(ctx, "Dropout", {dropout}));
  (void)nhead;
  std::string source = kEncoderLayerForward;
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t p = source.find(from); p != std::string::npos; p = source.find(from, p + to.size())) source.replace(p, from.size(), to);
  };
  replace("NORM_FIRST", a.boolean("norm_first") ? "True" : "False");
  replace("ACTIVATION", activation_call(a));
  define_methods(ctx, m, source, a.layer());
  return m;
}

// nn.TransformerEncoder(layer, num_layers, norm=None): num_layers copies of the layer in `layers`.
torch::jit::Module build_encoder(const LayerArgs& a, LayerContext& ctx) {
  const PyValue& layer = a["encoder_layer"];
  if (layer.kind != Kind::Module || !layer.module->built || layer.module->kind != "TransformerEncoderLayer")
    fail("nn.TransformerEncoder: encoder_layer must be an nn.TransformerEncoderLayer");
  int64_t n = a.integer("num_layers");
  if (n < 1) fail("nn.TransformerEncoder: num_layers must be positive");
  auto m = new_module(ctx, "torch.nn.modules.transformer.TransformerEncoder");
  auto layers = new_module(ctx, "torch.nn.modules.container.ModuleList");
  std::string source =
      "def forward(self, src: Tensor, mask: Optional[Tensor] = None, src_key_padding_mask: Optional[Tensor] = None,\n"
      "            is_causal: Optional[bool] = None) -> Tensor:\n"
      "    output = src\n";
  double elements = 0;
  for (const auto& p : layer.module->built->parameters()) elements += double(p.numel());
  for (int64_t k = 0; k < n; ++k) {
    ctx.budget.reserve_elements(elements, at::kFloat, "nn.TransformerEncoder");
    layers.register_module(std::to_string(k), layer.module->built->deepcopy());
    source += fmt::format("    output = getattr(self.layers, \"{}\").forward(output, mask, src_key_padding_mask)\n", k);
  }
  m.register_module("layers", layers);
  const PyValue& norm = a["norm"];
  if (norm.kind == Kind::Module && norm.module->built) {
    m.register_module("norm", *norm.module->built);
    source += "    output = self.norm.forward(output)\n";
  } else if (norm.kind != Kind::None) {
    fail("nn.TransformerEncoder: norm must be a layer or None");
  }
  source += "    return output\n";
  define_methods(ctx, m, source, a.layer());
  return m;
}

}  // namespace

MLOPT_REGISTER_LAYER("TransformerEncoderLayer",
                     "d_model, nhead, dim_feedforward=2048, dropout=0.1, activation='relu', layer_norm_eps=1e-05, "
                     "batch_first=False, norm_first=False, bias=True, device=None, dtype=None",
                     build_encoder_layer);
MLOPT_REGISTER_LAYER("TransformerEncoder",
                     "encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True",
                     build_encoder);

}  // namespace mlopt::script
