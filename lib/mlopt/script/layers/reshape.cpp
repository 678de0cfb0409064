// Layers that move or pad values without weights: PixelShuffle, PixelUnshuffle, Unflatten, ZeroPad2d,
// ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d.
#include "mlopt/core/error.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {
namespace {

LayerBuilder one_expression(std::string python_class, std::function<std::string(const LayerArgs&)> expression) {
  return [python_class, expression](const LayerArgs& a, LayerContext& ctx) {
    auto m = new_module(ctx, python_class);
    define_methods(ctx, m, "def forward(self, input: Tensor) -> Tensor:\n    return " + expression(a) + "\n", a.layer());
    return m;
  };
}

// PyTorch's padding argument: an int (every side) or a tuple of 2 * dims ints (last dim first).
std::string padding(const LayerArgs& a, size_t dims) { return int_list_literal(a.ints("padding", 2 * dims)); }

LayerBuilder pad(const std::string& kind, size_t dims) {
  std::string cls = "torch.nn.modules.padding." + (kind == "Zero" ? std::string("ZeroPad2d")
                                                                   : kind + "Pad" + std::to_string(dims) + "d");
  return one_expression(cls, [kind, dims](const LayerArgs& a) {
    if (kind == "Zero") return "torch.constant_pad_nd(input, " + padding(a, dims) + ", 0.0)";
    if (kind == "Constant")
      return "torch.constant_pad_nd(input, " + padding(a, dims) + ", " + PyValue::real(a.real("value")).repr() + ")";
    std::string op = kind == "Reflection" ? "reflection_pad" : "replication_pad";
    return "torch." + op + std::to_string(dims) + "d(input, " + padding(a, dims) + ")";
  });
}

}  // namespace

MLOPT_REGISTER_LAYER("PixelShuffle", "upscale_factor", one_expression("torch.nn.modules.pixelshuffle.PixelShuffle",
                     [](const LayerArgs& a) {
                       return "torch.pixel_shuffle(input, " + std::to_string(a.integer("upscale_factor")) + ")";
                     }));
MLOPT_REGISTER_LAYER("PixelUnshuffle", "downscale_factor", one_expression("torch.nn.modules.pixelshuffle.PixelUnshuffle",
                     [](const LayerArgs& a) {
                       return "torch.pixel_unshuffle(input, " + std::to_string(a.integer("downscale_factor")) + ")";
                     }));
MLOPT_REGISTER_LAYER("Unflatten", "dim, unflattened_size", one_expression("torch.nn.modules.flatten.Unflatten",
                     [](const LayerArgs& a) {
                       return "torch.unflatten(input, " + std::to_string(a.integer("dim")) + ", " +
                              int_list_literal(a.int_list("unflattened_size")) + ")";
                     }));
MLOPT_REGISTER_LAYER("ZeroPad2d", "padding", pad("Zero", 2));
MLOPT_REGISTER_LAYER("ConstantPad1d", "padding, value", pad("Constant", 1));
MLOPT_REGISTER_LAYER("ConstantPad2d", "padding, value", pad("Constant", 2));
MLOPT_REGISTER_LAYER("ConstantPad3d", "padding, value", pad("Constant", 3));
MLOPT_REGISTER_LAYER("ReflectionPad1d", "padding", pad("Reflection", 1));
MLOPT_REGISTER_LAYER("ReflectionPad2d", "padding", pad("Reflection", 2));
MLOPT_REGISTER_LAYER("ReflectionPad3d", "padding", pad("Reflection", 3));
MLOPT_REGISTER_LAYER("ReplicationPad1d", "padding", pad("Replication", 1));
MLOPT_REGISTER_LAYER("ReplicationPad2d", "padding", pad("Replication", 2));
MLOPT_REGISTER_LAYER("ReplicationPad3d", "padding", pad("Replication", 3));

}  // namespace mlopt::script
