#pragma once
// Clamps (ReLU6, hardtanh, clamp) of int8 tensors read an NCHW input under QNNPACK.
//
// LibTorch 1.13's QNNPACK clamp kernel, in place or not, scrambles a
// channels-last quantized input, and QNNPACK's int8 convolutions return
// channels-last tensors: a MobileNetV2 `.ptl` (a ReLU6 after almost every
// convolution) came out at -0.9 dB against float, as PyTorch's own FX int8
// model does. On an NCHW copy the kernel is right.
namespace torch::jit {
struct Graph;
}

namespace mlopt::graph_passes {

// Rewrites aten::hardtanh(_) / relu6(_) / clamp(_) with constant bounds to
// aten::hardtanh(aten::contiguous(x), low, high), where nothing reads x after
// it (an in-place clamp's input is not read again); returns how many.
int clamp_on_contiguous_input(torch::jit::Graph& graph);

}  // namespace mlopt::graph_passes
