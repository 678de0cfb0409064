// MaxPool, AveragePool, MaxUnpool and the global pools. Asymmetric or large padding is
// applied explicitly (with -inf for max, counted out for average).
#include "mlopt/onnx/eval/conv_common.h"
#include "mlopt/onnx/eval/tensor_limits.h"

namespace mlopt::onnx_eval {
namespace {

using Ts = std::vector<at::Tensor>;

struct PoolParams {
  int64_t spatial;
  std::vector<int64_t> kernel, strides, dilations, pads, sym;
  bool symmetric = true;  // pads equal at both ends and within ATen's limit (kernel / 2)
  bool ceil_mode;
};

PoolParams pool_params(const OpContext& c, const at::Tensor& x) {
  PoolParams p;
  p.spatial = x.dim() - 2;
  if (p.spatial < 1 || p.spatial > 3) c.fail(fmt::format("expects a 3-D to 5-D input, got {}-D", x.dim()));
  p.kernel = c.attr_ints("kernel_shape");
  if (static_cast<int64_t>(p.kernel.size()) != p.spatial) c.fail("'kernel_shape' does not match the input rank");
  p.strides = c.attr_ints("strides", std::vector<int64_t>(p.spatial, 1));
  p.dilations = c.attr_ints("dilations", std::vector<int64_t>(p.spatial, 1));
  std::vector<int64_t> in(x.sizes().begin() + 2, x.sizes().end());
  p.pads = resolve_pads(c, in, p.kernel, p.strides, p.dilations);
  p.ceil_mode = c.attr_int("ceil_mode", 0) != 0;
  p.sym.assign(p.spatial, 0);
  for (int64_t i = 0; i < p.spatial; ++i) {
    p.sym[i] = p.pads[i];
    if (p.pads[i] != p.pads[i + p.spatial] || p.pads[i] > p.kernel[i] / 2) p.symmetric = false;
  }
  return p;
}

at::Tensor pad_explicitly(const at::Tensor& x, const PoolParams& p, double value) {
  std::vector<int64_t> torch_pads;
  for (int64_t i = p.spatial - 1; i >= 0; --i) {
    torch_pads.push_back(p.pads[i]);
    torch_pads.push_back(p.pads[i + p.spatial]);
  }
  return at::constant_pad_nd(x, torch_pads, value);
}

Ts max_pool_kernel(OpContext& c, const at::Tensor& x);

// ATen's max pools take floating types: small integers go through float (exact).
Ts max_pool(OpContext& c) {
  const auto& x = c.input(0);
  auto t = x.scalar_type();
  if (t != at::kByte && t != at::kChar && t != at::kShort) return max_pool_kernel(c, x);
  auto out = max_pool_kernel(c, x.to(at::kFloat));
  out[0] = out[0].to(t);
  return out;
}

Ts max_pool_kernel(OpContext& c, const at::Tensor& x) {
  auto p = pool_params(c, x);
  at::Tensor in = x;
  std::vector<int64_t> pads = p.sym;
  if (!p.symmetric) {
    in = pad_explicitly(x, p, -std::numeric_limits<double>::infinity());
    pads.assign(p.spatial, 0);
  }
  bool want_indices = c.output_count() > 1 && !c.node.output(1).empty();
  if (!want_indices) {
    if (p.spatial == 1) return {at::max_pool1d(in, p.kernel, p.strides, pads, p.dilations, p.ceil_mode)};
    if (p.spatial == 2) return {at::max_pool2d(in, p.kernel, p.strides, pads, p.dilations, p.ceil_mode)};
    return {at::max_pool3d(in, p.kernel, p.strides, pads, p.dilations, p.ceil_mode)};
  }
  if (p.spatial != 2 || !p.symmetric) c.fail("MaxPool indices are supported for symmetric 2-D pooling only");
  auto [y, idx] = at::max_pool2d_with_indices(in, p.kernel, p.strides, pads, p.dilations, p.ceil_mode);
  // ONNX indices address the whole input tensor (row-major), ATen's one plane.
  int64_t plane = x.size(2) * x.size(3);
  auto base = at::arange(x.size(0) * x.size(1), at::kLong).reshape({x.size(0), x.size(1), 1, 1}) * plane;
  if (c.attr_int("storage_order", 0)) c.fail("MaxPool storage_order=1 is not supported");
  return {y, idx + base};
}

Ts average_pool(OpContext& c) {
  const auto& x = c.input(0);
  auto p = pool_params(c, x);
  bool include_pad = c.attr_int("count_include_pad", 0) != 0;
  for (auto d : p.dilations)
    if (d != 1) c.fail("AveragePool with dilations is not supported");
  auto avg = [&](const at::Tensor& t, const std::vector<int64_t>& pads, bool count_pad) {
    if (p.spatial == 1) return at::avg_pool1d(t, p.kernel, p.strides, pads, p.ceil_mode, count_pad);
    if (p.spatial == 2) return at::avg_pool2d(t, p.kernel, p.strides, pads, p.ceil_mode, count_pad);
    return at::avg_pool3d(t, p.kernel, p.strides, pads, p.ceil_mode, count_pad);
  };
  if (p.symmetric) return {avg(x, p.sym, include_pad)};
  std::vector<int64_t> zero(p.spatial, 0);
  at::Tensor padded = pad_explicitly(x, p, 0.0);
  if (include_pad) return {avg(padded, zero, true)};
  // Sum of the real elements over the count of real elements in each window.
  at::Tensor ones = pad_explicitly(at::ones_like(x.select(1, 0).unsqueeze(1)), p, 0.0);
  return {avg(padded, zero, true) / avg(ones, zero, true)};
}

// MaxUnpool: X's values at the flat positions I (MaxPool's indices) of a zero
// tensor, shaped by the output_shape input or by inverting the pooling.
Ts max_unpool(OpContext& c) {
  const auto &x = c.input(0), &indices = c.input(1);
  int64_t spatial = x.dim() - 2;
  if (spatial < 1) c.fail(fmt::format("expects an [N, C, ...] input, got {}-D", x.dim()));
  auto kernel = c.attr_ints("kernel_shape");
  auto strides = c.attr_ints("strides", std::vector<int64_t>(spatial, 1));
  auto pads = c.attr_ints("pads", std::vector<int64_t>(2 * spatial, 0));
  if (static_cast<int64_t>(kernel.size()) != spatial || static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial)
    c.fail("kernel_shape, strides and pads do not match the input rank");
  std::vector<int64_t> shape;
  shape = {x.size(0), x.size(1)};
  for (int64_t i = 0; i < spatial; ++i)
    shape.push_back((x.size(2 + i) - 1) * strides[i] + kernel[i] - pads[i] - pads[i + spatial]);
  // The reference places an output_shape larger than the pooling's inverse
  // differently from the flat indices; refused rather than guessed.
  if (c.has_input(2) && to_int_vector(c.input(2)) != shape)
    c.fail(fmt::format("MaxUnpool with an output_shape [{}] other than the pooling's inverse [{}] is not supported",
                       fmt::join(to_int_vector(c.input(2)), ", "), fmt::join(shape, ", ")));
  check_value_shape(c, shape, "the unpooled shape");
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  auto flat = indices.to(at::kLong).reshape({-1});
  if (indices.sizes() != x.sizes()) c.fail("the indices must have the input's shape");
  if (flat.numel() && (flat.min().item<int64_t>() < 0 || flat.max().item<int64_t>() >= numel))
    c.fail(fmt::format("an index is outside the output's {} elements", numel));
  auto y = at::zeros({numel}, x.options());
  y.index_put_({flat}, x.reshape({-1}));
  return {y.reshape(shape)};
}

std::vector<int64_t> spatial_dims(const at::Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

}  // namespace

REGISTER_ONNX_OP({"MaxPool"}, max_pool);
REGISTER_ONNX_OP({"AveragePool"}, average_pool);
REGISTER_ONNX_OP({"MaxUnpool"}, max_unpool);
REGISTER_ONNX_OP({"GlobalAveragePool"}, [](OpContext& c) -> Ts { return {c.input(0).mean(spatial_dims(c.input(0)), true)}; });
REGISTER_ONNX_OP({"GlobalMaxPool"}, [](OpContext& c) -> Ts { return {c.input(0).amax(spatial_dims(c.input(0)), true)}; });

}  // namespace mlopt::onnx_eval
