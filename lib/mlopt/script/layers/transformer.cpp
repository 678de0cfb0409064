// nn.TransformerEncoderLayer, nn.TransformerEncoder, nn.TransformerDecoderLayer,
// nn.TransformerDecoder and nn.Transformer, built from the layer library's
// MultiheadAttention, Linear, Dropout and LayerNorm with PyTorch's submodule
// names (self_attn, multihead_attn, linear1, dropout, linear2, norm1..3,
// dropout1..3; layers.N, norm; encoder, decoder) so a state_dict maps 1:1.
#include <cmath>

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

// Replaces every NAME in `source` by its value.
std::string substituted(std::string source, const std::vector<std::pair<std::string, std::string>>& names) {
  for (auto& [from, to] : names)
    for (size_t p = source.find(from); p != std::string::npos; p = source.find(from, p + to.size()))
      source.replace(p, from.size(), to);
  return source;
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
  define_methods(ctx, m,
                 substituted(kEncoderLayerForward, {{"NORM_FIRST", a.boolean("norm_first") ? "True" : "False"},
                                                    {"ACTIVATION", activation_call(a)}}),
                 a.layer());
  return m;
}

// The module a layer argument names, checked to be a built `kind` layer.
const torch::jit::Module& layer_argument(const LayerArgs& a, const std::string& name, const std::string& kind) {
  const PyValue& v = a[name];
  if (v.kind != Kind::Module || !v.module->built || v.module->kind != kind)
    fail("nn.{}: {} must be an nn.{}", a.layer(), name, kind);
  return *v.module->built;
}

// The optional final norm of an encoder/decoder stack: a built layer or None.
std::optional<torch::jit::Module> norm_argument(const LayerArgs& a, const std::string& name) {
  const PyValue& norm = a[name];
  if (norm.kind == Kind::Module && norm.module->built) return *norm.module->built;
  if (norm.kind != Kind::None) fail("nn.{}: {} must be a layer or None", a.layer(), name);
  return std::nullopt;
}

// nn.TransformerEncoder / nn.TransformerDecoder: `n` deep copies of `layer` in
// `layers` (as PyTorch's _get_clones makes them), then the optional norm.
// `signature` is forward's parameter list, `call` the arguments each layer gets
// after the running output.
torch::jit::Module stack_of_layers(LayerContext& ctx, const std::string& python_class, const std::string& layer_name,
                                   const torch::jit::Module& layer, int64_t n, const std::optional<torch::jit::Module>& norm,
                                   const std::string& signature, const std::string& call) {
  if (n < 1) fail("nn.{}: num_layers must be positive", layer_name);
  auto m = new_module(ctx, python_class);
  auto layers = new_module(ctx, "torch.nn.modules.container.ModuleList");
  std::string source = "def forward(self, " + signature + ") -> Tensor:\n    output = FIRST\n";
  double elements = 0;
  for (const auto& p : layer.parameters()) elements += double(p.numel());
  for (int64_t k = 0; k < n; ++k) {
    ctx.budget.reserve_elements(elements, at::kFloat, "nn." + layer_name);
    layers.register_module(std::to_string(k), layer.deepcopy());
    source += fmt::format("    output = getattr(self.layers, \"{}\").forward(output, {})\n", k, call);
  }
  m.register_module("layers", layers);
  if (norm) {
    m.register_module("norm", *norm);
    source += "    output = self.norm.forward(output)\n";
  }
  source += "    return output\n";
  define_methods(ctx, m, substituted(source, {{"FIRST", signature.substr(0, signature.find(':'))}}), layer_name);
  return m;
}

constexpr const char* kEncoderSignature =
    "src: Tensor, mask: Optional[Tensor] = None, src_key_padding_mask: Optional[Tensor] = None, "
    "is_causal: Optional[bool] = None";
constexpr const char* kDecoderSignature =
    "tgt: Tensor, memory: Tensor, tgt_mask: Optional[Tensor] = None, memory_mask: Optional[Tensor] = None, "
    "tgt_key_padding_mask: Optional[Tensor] = None, memory_key_padding_mask: Optional[Tensor] = None";
constexpr const char* kDecoderCall = "memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask";

// nn.TransformerEncoder(layer, num_layers, norm=None)
torch::jit::Module build_encoder(const LayerArgs& a, LayerContext& ctx) {
  return stack_of_layers(ctx, "torch.nn.modules.transformer.TransformerEncoder", a.layer(),
                         layer_argument(a, "encoder_layer", "TransformerEncoderLayer"), a.integer("num_layers"),
                         norm_argument(a, "norm"), kEncoderSignature, "mask, src_key_padding_mask");
}

// nn.TransformerDecoder(layer, num_layers, norm=None)
torch::jit::Module build_decoder(const LayerArgs& a, LayerContext& ctx) {
  return stack_of_layers(ctx, "torch.nn.modules.transformer.TransformerDecoder", a.layer(),
                         layer_argument(a, "decoder_layer", "TransformerDecoderLayer"), a.integer("num_layers"),
                         norm_argument(a, "norm"), kDecoderSignature, kDecoderCall);
}

constexpr const char* kDecoderLayerForward = R"(
def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Optional[Tensor] = None, memory_mask: Optional[Tensor] = None,
            tgt_key_padding_mask: Optional[Tensor] = None, memory_key_padding_mask: Optional[Tensor] = None,
            tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
    x = tgt
    if NORM_FIRST:
        x = x + self._sa_block(self.norm1.forward(x), tgt_mask, tgt_key_padding_mask)
        x = x + self._mha_block(self.norm2.forward(x), memory, memory_mask, memory_key_padding_mask)
        x = x + self._ff_block(self.norm3.forward(x))
    else:
        x = self.norm1.forward(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask))
        x = self.norm2.forward(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask))
        x = self.norm3.forward(x + self._ff_block(x))
    return x

def _sa_block(self, x: Tensor, attn_mask: Optional[Tensor], key_padding_mask: Optional[Tensor]) -> Tensor:
    x = self.self_attn.forward(x, x, x, key_padding_mask, False, attn_mask)[0]
    return self.dropout1.forward(x)

def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Optional[Tensor], key_padding_mask: Optional[Tensor]) -> Tensor:
    x = self.multihead_attn.forward(x, mem, mem, key_padding_mask, False, attn_mask)[0]
    return self.dropout2.forward(x)

def _ff_block(self, x: Tensor) -> Tensor:
    x = self.linear2.forward(self.dropout.forward(ACTIVATION(self.linear1.forward(x))))
    return self.dropout3.forward(x)
)";

torch::jit::Module build_decoder_layer(const LayerArgs& a, LayerContext& ctx) {
  int64_t d_model = a.integer("d_model"), ff = a.integer("dim_feedforward");
  double eps = a.real("layer_norm_eps");
  if (!a.boolean("bias")) fail("nn.TransformerDecoderLayer: bias=False is not supported");
  PyValue dropout = PyValue::real(a.real("dropout"));
  auto m = new_module(ctx, "torch.nn.modules.transformer.TransformerDecoderLayer");
  // PyTorch's construction order (it draws the initial values in this order).
  for (const char* attention : {"self_attn", "multihead_attn"})
    m.register_module(attention, sublayer(ctx, "MultiheadAttention", {a["d_model"], a["nhead"]},
                                          {{"dropout", dropout}, {"batch_first", a["batch_first"]}}));
  m.register_module("linear1", sublayer(ctx, "Linear", {PyValue::integer(d_model), PyValue::integer(ff)}));
  m.register_module("dropout", sublayer(ctx, "Dropout", {dropout}));
  m.register_module("linear2", sublayer(ctx, "Linear", {PyValue::integer(ff), PyValue::integer(d_model)}));
  for (const char* norm : {"norm1", "norm2", "norm3"})
    m.register_module(norm, sublayer(ctx, "LayerNorm", {PyValue::integer(d_model)}, {{"eps", PyValue::real(eps)}}));
  for (const char* drop : {"dropout1", "dropout2", "dropout3"}) m.register_module(drop, sublayer(ctx, "Dropout", {dropout}));
  define_methods(ctx, m,
                 substituted(kDecoderLayerForward, {{"NORM_FIRST", a.boolean("norm_first") ? "True" : "False"},
                                                    {"ACTIVATION", activation_call(a)}}),
                 a.layer());
  return m;
}

// nn.Transformer: an encoder and a decoder stack, each with a final LayerNorm;
// then every parameter with more than one dimension re-drawn xavier_uniform_.
torch::jit::Module build_transformer(const LayerArgs& a, LayerContext& ctx) {
  if (!a.is_none("custom_encoder") || !a.is_none("custom_decoder"))
    fail("nn.Transformer: custom_encoder/custom_decoder are not supported (build nn.TransformerEncoder/Decoder)");
  std::vector<std::pair<std::string, PyValue>> layer_kwargs{
      {"dim_feedforward", a["dim_feedforward"]}, {"dropout", a["dropout"]},     {"activation", a["activation"]},
      {"layer_norm_eps", a["layer_norm_eps"]},   {"batch_first", a["batch_first"]}, {"norm_first", a["norm_first"]}};
  PyList width{a["d_model"], a["nhead"]};
  PyList norm_args{a["d_model"]};
  std::vector<std::pair<std::string, PyValue>> norm_kwargs{{"eps", a["layer_norm_eps"]}};
  auto m = new_module(ctx, "torch.nn.modules.transformer.Transformer");
  auto encoder_layer = sublayer(ctx, "TransformerEncoderLayer", width, layer_kwargs);
  auto encoder_norm = sublayer(ctx, "LayerNorm", norm_args, norm_kwargs);
  m.register_module("encoder", stack_of_layers(ctx, "torch.nn.modules.transformer.TransformerEncoder",
                                               "TransformerEncoder", encoder_layer, a.integer("num_encoder_layers"),
                                               encoder_norm, kEncoderSignature, "mask, src_key_padding_mask"));
  auto decoder_layer = sublayer(ctx, "TransformerDecoderLayer", width, layer_kwargs);
  auto decoder_norm = sublayer(ctx, "LayerNorm", norm_args, norm_kwargs);
  m.register_module("decoder", stack_of_layers(ctx, "torch.nn.modules.transformer.TransformerDecoder",
                                               "TransformerDecoder", decoder_layer, a.integer("num_decoder_layers"),
                                               decoder_norm, kDecoderSignature, kDecoderCall));
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : m.parameters()) {
      if (p.dim() < 2) continue;
      double fan_in = double(p.size(1)), fan_out = double(p.size(0));
      for (int64_t d = 2; d < p.dim(); ++d) fan_in *= double(p.size(d)), fan_out *= double(p.size(d));
      double bound = std::sqrt(6.0 / (fan_in + fan_out));
      p.uniform_(-bound, bound, ctx.gen);
    }
  }
  define_methods(
      ctx, m,
      "def forward(self, src: Tensor, tgt: Tensor, src_mask: Optional[Tensor] = None, tgt_mask: Optional[Tensor] = None,\n"
      "            memory_mask: Optional[Tensor] = None, src_key_padding_mask: Optional[Tensor] = None,\n"
      "            tgt_key_padding_mask: Optional[Tensor] = None, memory_key_padding_mask: Optional[Tensor] = None) -> Tensor:\n"
      "    memory = self.encoder.forward(src, src_mask, src_key_padding_mask)\n"
      "    return self.decoder.forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)\n",
      a.layer());
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
MLOPT_REGISTER_LAYER("TransformerDecoderLayer",
                     "d_model, nhead, dim_feedforward=2048, dropout=0.1, activation='relu', layer_norm_eps=1e-05, "
                     "batch_first=False, norm_first=False, bias=True, device=None, dtype=None",
                     build_decoder_layer);
MLOPT_REGISTER_LAYER("TransformerDecoder", "decoder_layer, num_layers, norm=None", build_decoder);
MLOPT_REGISTER_LAYER("Transformer",
                     "d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048, "
                     "dropout=0.1, activation='relu', custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-05, "
                     "batch_first=False, norm_first=False, bias=True, device=None, dtype=None",
                     build_transformer);

}  // namespace mlopt::script
