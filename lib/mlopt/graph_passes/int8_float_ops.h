#pragma once
// Ops that LibTorch's graph-mode passes leave between int8 kernels although
// LibTorch has no int8 kernel for them run in float there.
//
// The passes treat max pooling as an op that keeps its input's quantization,
// and LibTorch 1.13 has an int8 max_pool2d but no max_pool3d: S3D's int8 model
// failed on its first pooling with "Could not run
// 'aten::max_pool3d_with_indices' with arguments from the 'QuantizedCPU'
// backend". Max pooling takes the largest of its inputs, so the float result
// quantized with the input's own scale and zero point is what an int8 kernel
// would give. The same for a mean of a 3-D kernel's int8 output, which LibTorch
// 1.13 cannot reduce to fewer dims ("required rank 5 tensor to use
// channels_last_3d format": S3D's head).
namespace torch::jit {
struct Graph;
}

namespace mlopt::graph_passes {

// Rewrites y = OP(x, ...) for the ops of runs_float_on_int8 (int8_float_ops.cpp) whose
// x an int8 kernel (or a quantize) made into
//   y = quantize_per_tensor(OP(dequantize(x), ...), q_scale(x), q_zero_point(x), dtype(x));
// returns how many.
int float_ops_on_int8_inputs(torch::jit::Graph& graph);

}  // namespace mlopt::graph_passes
