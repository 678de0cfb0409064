// nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Upsample.
#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

std::string py_bool(bool v) { return v ? "True" : "False"; }

torch::jit::Module forward_module(LayerContext& ctx, const std::string& python_class, const std::string& layer,
                                  const std::string& expression) {
  auto m = new_module(ctx, python_class);
  define_methods(ctx, m, "def forward(self, input: Tensor) -> Tensor:\n    return " + expression + "\n", layer);
  return m;
}

torch::jit::Module build_max_pool(const LayerArgs& a, LayerContext& ctx) {
  if (a.boolean("return_indices")) fail("nn.MaxPool2d: return_indices=True is not supported");
  auto kernel = a.ints("kernel_size", 2);
  auto stride = a.is_none("stride") ? kernel : a.ints("stride", 2);
  return forward_module(ctx, "torch.nn.modules.pooling.MaxPool2d", "MaxPool2d",
                        fmt::format("torch.max_pool2d(input, {}, {}, {}, {}, {})", int_list_literal(kernel),
                                    int_list_literal(stride), int_list_literal(a.ints("padding", 2)),
                                    int_list_literal(a.ints("dilation", 2)), py_bool(a.boolean("ceil_mode"))));
}

torch::jit::Module build_avg_pool(const LayerArgs& a, LayerContext& ctx) {
  auto kernel = a.ints("kernel_size", 2);
  auto stride = a.is_none("stride") ? kernel : a.ints("stride", 2);
  std::string divisor = a.is_none("divisor_override") ? "None" : std::to_string(a.integer("divisor_override"));
  return forward_module(ctx, "torch.nn.modules.pooling.AvgPool2d", "AvgPool2d",
                        fmt::format("torch.avg_pool2d(input, {}, {}, {}, {}, {}, {})", int_list_literal(kernel),
                                    int_list_literal(stride), int_list_literal(a.ints("padding", 2)),
                                    py_bool(a.boolean("ceil_mode")), py_bool(a.boolean("count_include_pad")), divisor));
}

torch::jit::Module build_adaptive_avg_pool(const LayerArgs& a, LayerContext& ctx) {
  if (a["output_size"].is_sequence())
    for (auto& v : *a["output_size"].items)
      if (v.kind == PyValue::Kind::None) fail("nn.AdaptiveAvgPool2d: None in output_size is not supported");
  return forward_module(ctx, "torch.nn.modules.pooling.AdaptiveAvgPool2d", "AdaptiveAvgPool2d",
                        fmt::format("torch.adaptive_avg_pool2d(input, {})", int_list_literal(a.ints("output_size", 2))));
}

torch::jit::Module build_upsample(const LayerArgs& a, LayerContext& ctx) {
  std::string mode = a.text("mode");
  std::string size = a.is_none("size") ? "None" : int_list_literal(a.ints("size", 2));
  std::string scales = "None";
  if (!a.is_none("scale_factor")) {
    const auto& s = a["scale_factor"];
    std::vector<double> factors;
    if (s.is_sequence())
      for (auto& v : *s.items) factors.push_back(v.as_double());
    else
      factors.assign(2, a.real("scale_factor"));
    if (factors.size() != 2) fail("nn.Upsample: scale_factor must be a number or a pair");
    scales = "[" + PyValue::real(factors[0]).repr() + ", " + PyValue::real(factors[1]).repr() + "]";
  }
  if (size == "None" && scales == "None") fail("nn.Upsample: give size or scale_factor");
  std::string expression;
  if (mode == "nearest") {
    expression = fmt::format("torch.upsample_nearest2d(input, {}, {})", size, scales);
  } else if (mode == "bilinear") {
    bool align = !a.is_none("align_corners") && a.boolean("align_corners");
    expression = fmt::format("torch.upsample_bilinear2d(input, {}, {}, {})", size, py_bool(align), scales);
  } else {
    fail("nn.Upsample: mode '{}' is not supported (nearest, bilinear)", mode);
  }
  return forward_module(ctx, "torch.nn.modules.upsampling.Upsample", "Upsample", expression);
}

}  // namespace

MLOPT_REGISTER_LAYER("MaxPool2d", "kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False",
                     build_max_pool);
MLOPT_REGISTER_LAYER("AvgPool2d",
                     "kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None",
                     build_avg_pool);
MLOPT_REGISTER_LAYER("AdaptiveAvgPool2d", "output_size", build_adaptive_avg_pool);
MLOPT_REGISTER_LAYER("Upsample", "size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None",
                     build_upsample);

}  // namespace mlopt::script
