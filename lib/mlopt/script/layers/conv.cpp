// nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d.
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

torch::jit::Module build_conv(const LayerArgs& a, LayerContext& ctx, size_t dims, bool transposed) {
  int64_t in = a.integer("in_channels"), out = a.integer("out_channels"), groups = a.integer("groups");
  if (groups <= 0 || in % groups || out % groups)
    fail("nn.{}: in_channels ({}) and out_channels ({}) must be divisible by groups ({})", a.layer(), in, out, groups);
  if (a.text("padding_mode") != "zeros") fail("nn.{}: padding_mode '{}' is not supported (only 'zeros')", a.layer(), a.text("padding_mode"));
  auto kernel = a.ints("kernel_size", dims);
  auto stride = a.ints("stride", dims);
  auto dilation = a.ints("dilation", dims);
  std::string padding;
  if (a["padding"].kind == PyValue::Kind::Str) {
    if (transposed) fail("nn.{}: padding must be an int or tuple", a.layer());
    padding = PyValue::str(a.text("padding")).repr();
  } else {
    padding = int_list_literal(a.ints("padding", dims));
  }
  std::vector<int64_t> shape = transposed ? std::vector<int64_t>{in, out / groups} : std::vector<int64_t>{out, in / groups};
  int64_t receptive = 1;
  for (auto k : kernel) receptive *= k;
  shape.insert(shape.end(), kernel.begin(), kernel.end());
  // PyTorch's fan_in is weight.size(1) * receptive field; kaiming_uniform_(a=sqrt(5)) -> 1/sqrt(fan_in).
  int64_t fan_in = shape[1] * receptive;
  double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
  std::string module_name = transposed ? "conv.ConvTranspose" : "conv.Conv";
  auto m = new_module(ctx, fmt::format("torch.nn.modules.{}{}d", module_name, dims));
  m.register_parameter("weight", uniform_tensor(ctx, shape, bound), false);
  bool bias = a.boolean("bias");
  if (bias) m.register_parameter("bias", uniform_tensor(ctx, {out}, bound), false);
  std::string b = bias ? "self.bias" : "None";
  std::string call;
  if (transposed) {
    call = fmt::format("torch.conv_transpose{}d(input, self.weight, {}, {}, {}, {}, {}, {})", dims, b,
                       int_list_literal(stride), padding, int_list_literal(a.ints("output_padding", dims)), groups,
                       int_list_literal(dilation));
  } else {
    call = fmt::format("torch.conv{}d(input, self.weight, {}, {}, {}, {}, {})", dims, b, int_list_literal(stride),
                       padding, int_list_literal(dilation), groups);
  }
  define_methods(ctx, m, "def forward(self, input: Tensor) -> Tensor:\n    return " + call + "\n", a.layer());
  return m;
}

constexpr const char* kConvSignature =
    "in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, "
    "padding_mode='zeros', device=None, dtype=None";
constexpr const char* kConvTransposeSignature =
    "in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, "
    "dilation=1, padding_mode='zeros', device=None, dtype=None";

}  // namespace

MLOPT_REGISTER_LAYER("Conv1d", kConvSignature, [](const LayerArgs& a, LayerContext& c) { return build_conv(a, c, 1, false); });
MLOPT_REGISTER_LAYER("Conv2d", kConvSignature, [](const LayerArgs& a, LayerContext& c) { return build_conv(a, c, 2, false); });
MLOPT_REGISTER_LAYER("Conv3d", kConvSignature, [](const LayerArgs& a, LayerContext& c) { return build_conv(a, c, 3, false); });
MLOPT_REGISTER_LAYER("ConvTranspose1d", kConvTransposeSignature,
                     [](const LayerArgs& a, LayerContext& c) { return build_conv(a, c, 1, true); });
MLOPT_REGISTER_LAYER("ConvTranspose2d", kConvTransposeSignature,
                     [](const LayerArgs& a, LayerContext& c) { return build_conv(a, c, 2, true); });
MLOPT_REGISTER_LAYER("ConvTranspose3d", kConvTransposeSignature,
                     [](const LayerArgs& a, LayerContext& c) { return build_conv(a, c, 3, true); });

}  // namespace mlopt::script
