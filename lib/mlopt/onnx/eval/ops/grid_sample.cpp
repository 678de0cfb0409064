// GridSample (opset 16): ONNX took its definition from PyTorch's
// grid_sample, so ATen's kernel computes it (4-D inputs).
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

int64_t mode_code(const OpContext& c, const std::string& attr, const std::string& fallback,
                  const std::vector<std::string>& names) {
  std::string value = c.attr_string(attr, fallback);
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == value) return static_cast<int64_t>(i);
  c.fail(fmt::format("{} '{}' is not one of {}", attr, value, fmt::join(names, ", ")));
}

Ts grid_sample(OpContext& c) {
  const auto &x = c.input(0), &grid = c.input(1);
  if (x.dim() != 4 || grid.dim() != 4 || grid.size(3) != 2)
    c.fail("GridSample supports 4-D inputs with a [N, H, W, 2] grid only");
  int64_t mode = mode_code(c, "mode", "bilinear", {"bilinear", "nearest", "bicubic"});
  int64_t padding = mode_code(c, "padding_mode", "zeros", {"zeros", "border", "reflection"});
  bool align = c.attr_int("align_corners", 0) != 0;
  return {at::grid_sampler(x, grid.to(x.scalar_type()), mode, padding, align)};
}

}  // namespace

REGISTER_ONNX_OP({"GridSample"}, grid_sample);

}  // namespace mlopt::onnx_eval
