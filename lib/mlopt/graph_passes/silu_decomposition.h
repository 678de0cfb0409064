#pragma once
// SiLU written as x * sigmoid(x), so that static int8 can quantize it.
//
// LibTorch 1.13 has no int8 SiLU, so its graph-mode passes leave every
// aten::silu float between a dequantize and a quantize, and with it what reads
// its output (a squeeze-excitation's pooling and product): EfficientNet's
// static int8 model made 66 round trips and ran at half the speed of float.
// Its pieces are int8 kernels -- a sigmoid (on a fixed 1/256 grid) and a product
// whose output the observers range like any other.
namespace torch::jit {
struct Module;
}

namespace mlopt::graph_passes {

// Rewrites aten::silu(x) and aten::silu_(x) in every method of `module` and its
// submodules (graphs changed in place: give it a copy) to
// aten::mul(x, aten::sigmoid(x)), the scripted functions that run one (F.silu)
// inlined first. An in-place SiLU is rewritten only where nothing reads x
// afterwards (for x a method's argument: in every caller, after the call),
// once such reads read its result (in_place_aliases.h). Returns how many.
int decompose_silu(torch::jit::Module& module);

}  // namespace mlopt::graph_passes
