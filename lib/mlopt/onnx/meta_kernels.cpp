// Meta-tensor kernels that LibTorch 1.13's C++ library lacks (Python adds them
// from torch/_meta_registrations.py, which a native program does not have).
// The export's shape probe (example_probes.h) runs models on meta tensors;
// every op here computes only its output's sizes and dtype. An op missing
// from this file is not an error: that probe falls back to real tensors.
#include <torch/library.h>
#include <torch/script.h>

namespace mlopt::onnx_export {
namespace {

// One spatial output size of a convolution (or of a transposed one).
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                         int64_t output_padding, bool transposed) {
  TORCH_CHECK(stride > 0 && dilation > 0 && padding >= 0, "convolution: stride and dilation must be positive");
  int64_t span = dilation * (kernel - 1) + 1;
  if (transposed) return (in - 1) * stride - 2 * padding + span + output_padding;
  // (checked before dividing: C++ rounds a negative quotient up, to a size of 1)
  TORCH_CHECK(in + 2 * padding >= span, "convolution: the padded input (", in + 2 * padding,
              ") is smaller than the kernel (", span, ")");
  return (in + 2 * padding - span) / stride + 1;
}

// Conv arguments may be given once for all spatial dims.
int64_t per_dim(c10::IntArrayRef values, size_t d) { return values.size() == 1 ? values[0] : values.at(d); }

at::Tensor convolution_meta(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                            c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation,
                            bool transposed, c10::IntArrayRef output_padding, int64_t groups) {
  (void)bias;
  TORCH_CHECK(input.dim() == weight.dim(), "convolution: input and weight ranks differ (", input.dim(), " vs ",
              weight.dim(), ")");
  TORCH_CHECK(input.dim() >= 3, "convolution: expected a batched input of rank 3 or more, got rank ", input.dim());
  TORCH_CHECK(groups > 0, "convolution: groups must be positive");
  const size_t spatial = static_cast<size_t>(input.dim() - 2);
  std::vector<int64_t> sizes{input.size(0), transposed ? weight.size(1) * groups : weight.size(0)};
  TORCH_CHECK(input.size(1) == (transposed ? weight.size(0) : weight.size(1) * groups),
              "convolution: the input has ", input.size(1), " channels, the weight expects a different number");
  for (size_t d = 0; d < spatial; ++d) {
    int64_t out = conv_output_size(input.size(static_cast<int64_t>(d) + 2), weight.size(static_cast<int64_t>(d) + 2),
                                   per_dim(stride, d), per_dim(padding, d), per_dim(dilation, d),
                                   transposed ? per_dim(output_padding, d) : 0, transposed);
    TORCH_CHECK(out > 0, "convolution: output size is ", out, " (the input is smaller than the kernel)");
    sizes.push_back(out);
  }
  return at::empty(sizes, input.options());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> batch_norm_meta(const at::Tensor& input, const c10::optional<at::Tensor>&,
                                                               const c10::optional<at::Tensor>&,
                                                               const c10::optional<at::Tensor>&,
                                                               const c10::optional<at::Tensor>&, bool training,
                                                               double, double) {
  TORCH_CHECK(input.dim() >= 2, "batch_norm: expected an input of rank 2 or more, got rank ", input.dim());
  // Saved statistics: one per channel when training, none in eval mode (as the CPU kernel).
  auto stats = at::empty({training ? input.size(1) : 0}, input.options());
  return {at::empty_like(input), stats, at::empty_like(stats)};
}

// (embedding lookups become index_select)
at::Tensor index_select_meta(const at::Tensor& self, int64_t dim, const at::Tensor& index) {
  TORCH_CHECK(index.dim() <= 1, "index_select: the index must be a vector, got rank ", index.dim());
  // (a 0-dim source is left to the real kernel: the probe falls back)
  TORCH_CHECK(self.dim() > 0, "index_select on meta tensors: a 0-dim source is not handled");
  auto sizes = self.sizes().vec();
  dim = c10::maybe_wrap_dim(dim, self.dim());
  sizes[static_cast<size_t>(dim)] = index.numel();
  return at::empty(sizes, self.options());
}

// Ops whose output has the sizes and dtype of their first argument:
// elementwise activations without a meta kernel of their own, and the fused
// transformer encoder layer (its output has the sizes of its input `src`).
constexpr const char* kSameShapeOps[] = {"relu",       "hardswish", "hardtanh", "hardsigmoid",
                                         "gelu",       "silu",      "sigmoid",  "tanh",
                                         "leaky_relu", "elu",       "mish",     "softplus",
                                         "_transformer_encoder_layer_fwd"};

void same_shape_meta(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  size_t n = op.schema().arguments().size();
  at::Tensor self = (*stack)[stack->size() - n].toTensor();
  torch::jit::drop(*stack, n);
  stack->emplace_back(at::empty_like(self));
}

// Only where LibTorch registers no meta kernel: a LibTorch that has its own
// keeps it. (Composite kernels do not count: convolution_overrideable's is the
// "not implemented" error.)
bool lacks_meta_kernel(const char* op) {
  auto handle = c10::Dispatcher::singleton().findOp({std::string("aten::") + op, ""});
  return handle && !handle->hasKernelForDispatchKey(c10::DispatchKey::Meta);
}

TORCH_LIBRARY_IMPL(aten, Meta, m) {
  if (lacks_meta_kernel("convolution_overrideable")) m.impl("convolution_overrideable", convolution_meta);
  if (lacks_meta_kernel("native_batch_norm")) m.impl("native_batch_norm", batch_norm_meta);
  if (lacks_meta_kernel("index_select")) m.impl("index_select", index_select_meta);
  for (const char* op : kSameShapeOps)
    if (lacks_meta_kernel(op)) m.impl(op, torch::CppFunction::makeFromBoxedFunction<&same_shape_meta>());
}

}  // namespace
}  // namespace mlopt::onnx_export
