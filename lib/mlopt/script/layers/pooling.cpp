// Pooling layers (max, average, adaptive, power-average) in 1-3 dims, and nn.Upsample.
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

// "MaxPool2d" -> "torch.nn.modules.pooling.MaxPool2d"
std::string pooling_class(const LayerArgs& a) { return "torch.nn.modules.pooling." + a.layer(); }

torch::jit::Module build_max_pool(const LayerArgs& a, LayerContext& ctx, size_t dims) {
  if (a.boolean("return_indices")) fail("nn.{}: return_indices=True is not supported", a.layer());
  auto kernel = a.ints("kernel_size", dims);
  auto stride = a.is_none("stride") ? kernel : a.ints("stride", dims);
  return forward_module(ctx, pooling_class(a), a.layer(),
                        fmt::format("torch.max_pool{}d(input, {}, {}, {}, {}, {})", dims, int_list_literal(kernel),
                                    int_list_literal(stride), int_list_literal(a.ints("padding", dims)),
                                    int_list_literal(a.ints("dilation", dims)), py_bool(a.boolean("ceil_mode"))));
}

torch::jit::Module build_avg_pool(const LayerArgs& a, LayerContext& ctx, size_t dims) {
  auto kernel = a.ints("kernel_size", dims);
  auto stride = a.is_none("stride") ? kernel : a.ints("stride", dims);
  std::string call = fmt::format("torch.avg_pool{}d(input, {}, {}, {}, {}, {}", dims, int_list_literal(kernel),
                                 int_list_literal(stride), int_list_literal(a.ints("padding", dims)),
                                 py_bool(a.boolean("ceil_mode")), py_bool(a.boolean("count_include_pad")));
  if (dims > 1)  // AvgPool1d has no divisor_override
    call += ", " + (a.is_none("divisor_override") ? std::string("None") : std::to_string(a.integer("divisor_override")));
  return forward_module(ctx, pooling_class(a), a.layer(), call + ")");
}

std::vector<int64_t> adaptive_output_size(const LayerArgs& a, size_t dims) {
  if (a["output_size"].is_sequence())
    for (auto& v : *a["output_size"].items)
      if (v.kind == PyValue::Kind::None) fail("nn.{}: None in output_size is not supported", a.layer());
  return a.ints("output_size", dims);
}

torch::jit::Module build_adaptive_avg_pool(const LayerArgs& a, LayerContext& ctx, size_t dims) {
  return forward_module(ctx, pooling_class(a), a.layer(),
                        fmt::format("torch.adaptive_avg_pool{}d(input, {})", dims,
                                    int_list_literal(adaptive_output_size(a, dims))));
}

torch::jit::Module build_adaptive_max_pool(const LayerArgs& a, LayerContext& ctx, size_t dims) {
  if (a.boolean("return_indices")) fail("nn.{}: return_indices=True is not supported", a.layer());
  return forward_module(ctx, pooling_class(a), a.layer(),
                        fmt::format("torch.adaptive_max_pool{}d(input, {})[0]", dims,
                                    int_list_literal(adaptive_output_size(a, dims))));
}

// F.lp_pool1d/2d: (sum over the window of x^p)^(1/p), as an average pool of x^p
// scaled by the window size, with PyTorch's sign/relu guard against negative sums.
torch::jit::Module build_lp_pool(const LayerArgs& a, LayerContext& ctx, size_t dims) {
  auto kernel = a.ints("kernel_size", dims);
  auto stride = a.is_none("stride") ? kernel : a.ints("stride", dims);
  int64_t window = 1;
  for (auto k : kernel) window *= k;
  std::string p = PyValue::real(a.real("norm_type")).repr();
  std::string pooled = fmt::format("torch.avg_pool{}d(input.pow({}), {}, {}, {}, {})", dims, p,
                                   int_list_literal(kernel), int_list_literal(stride),
                                   int_list_literal(std::vector<int64_t>(dims, 0)), py_bool(a.boolean("ceil_mode")));
  auto m = new_module(ctx, pooling_class(a));
  define_methods(ctx, m,
                 fmt::format("def forward(self, input: Tensor) -> Tensor:\n"
                             "    out = {}\n"
                             "    return (torch.sign(out) * torch.relu(torch.abs(out))).mul({}).pow(1.0 / {})\n",
                             pooled, window, p),
                 a.layer());
  return m;
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

// One registration per layer and dimension count: the builders take the dims.
#define MLOPT_POOL_LAYER(name, dims, signature, builder) \
  MLOPT_REGISTER_LAYER(name, signature, [](const LayerArgs& a, LayerContext& c) { return builder(a, c, dims); })

constexpr const char* kMaxPoolArgs = "kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False";
constexpr const char* kAvgPoolArgs =
    "kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None";
MLOPT_POOL_LAYER("MaxPool1d", 1, kMaxPoolArgs, build_max_pool);
MLOPT_POOL_LAYER("MaxPool2d", 2, kMaxPoolArgs, build_max_pool);
MLOPT_POOL_LAYER("MaxPool3d", 3, kMaxPoolArgs, build_max_pool);
MLOPT_POOL_LAYER("AvgPool1d", 1, "kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True",
                 build_avg_pool);
MLOPT_POOL_LAYER("AvgPool2d", 2, kAvgPoolArgs, build_avg_pool);
MLOPT_POOL_LAYER("AvgPool3d", 3, kAvgPoolArgs, build_avg_pool);
MLOPT_POOL_LAYER("AdaptiveAvgPool1d", 1, "output_size", build_adaptive_avg_pool);
MLOPT_POOL_LAYER("AdaptiveAvgPool2d", 2, "output_size", build_adaptive_avg_pool);
MLOPT_POOL_LAYER("AdaptiveAvgPool3d", 3, "output_size", build_adaptive_avg_pool);
MLOPT_POOL_LAYER("AdaptiveMaxPool1d", 1, "output_size, return_indices=False", build_adaptive_max_pool);
MLOPT_POOL_LAYER("AdaptiveMaxPool2d", 2, "output_size, return_indices=False", build_adaptive_max_pool);
MLOPT_POOL_LAYER("LPPool1d", 1, "norm_type, kernel_size, stride=None, ceil_mode=False", build_lp_pool);
MLOPT_POOL_LAYER("LPPool2d", 2, "norm_type, kernel_size, stride=None, ceil_mode=False", build_lp_pool);
MLOPT_REGISTER_LAYER("Upsample", "size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None",
                     build_upsample);

}  // namespace mlopt::script
