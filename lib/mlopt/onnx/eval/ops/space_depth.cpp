// DepthToSpace (DCR and CRD orders) and SpaceToDepth on NCHW inputs.
#include "mlopt/onnx/eval/op_registry.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

int64_t block_size(const OpContext& c) {
  int64_t b = c.attr_int("blocksize", 0);
  if (b < 1) c.fail(fmt::format("blocksize must be 1 or more, got {}", b));
  if (c.input(0).dim() != 4) c.fail(fmt::format("the input must be 4-D (NCHW), got {} dim(s)", c.input(0).dim()));
  return b;
}

Ts depth_to_space(OpContext& c) {
  const auto& x = c.input(0);
  int64_t b = block_size(c), n = x.size(0), ch = x.size(1), h = x.size(2), w = x.size(3);
  if (ch % (b * b)) c.fail(fmt::format("{} channels do not divide by blocksize^2 = {}", ch, b * b));
  at::Tensor y;
  if (c.attr_string("mode", "DCR") == "CRD")
    y = x.reshape({n, ch / (b * b), b, b, h, w}).permute({0, 1, 4, 2, 5, 3});
  else
    y = x.reshape({n, b, b, ch / (b * b), h, w}).permute({0, 3, 4, 1, 5, 2});
  return {y.reshape({n, ch / (b * b), h * b, w * b})};
}

Ts space_to_depth(OpContext& c) {
  const auto& x = c.input(0);
  int64_t b = block_size(c), n = x.size(0), ch = x.size(1), h = x.size(2), w = x.size(3);
  if (h % b || w % b) c.fail(fmt::format("height {} and width {} must divide by blocksize {}", h, w, b));
  auto y = x.reshape({n, ch, h / b, b, w / b, b}).permute({0, 3, 5, 1, 2, 4});
  return {y.reshape({n, ch * b * b, h / b, w / b})};
}

}  // namespace

REGISTER_ONNX_OP({"DepthToSpace"}, depth_to_space);
REGISTER_ONNX_OP({"SpaceToDepth"}, space_to_depth);

}  // namespace mlopt::onnx_eval
