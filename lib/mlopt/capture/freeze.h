#pragma once
// Freezing for inference, shared by trace, export and quantize: parameters and
// attributes become constants of the graph, which lets constant folding,
// conv-batchnorm folding and dead-code elimination run.
#include <torch/script.h>

namespace mlopt {

struct FreezeOptions {
  // torch::jit::freeze's numerics-changing folds (conv + batchnorm, conv + add/mul):
  // results change in the last bits only.
  bool optimize_numerics = true;
  // torch::jit::optimize_for_inference on top: fuses further and may convert
  // convolutions to MKLDNN layouts. The result runs in LibTorch on CPU only —
  // leave it off for modules that go to ONNX export or the lite interpreter.
  bool optimize_for_inference = false;
};

// Returns a frozen copy of `module` (in eval mode; `module` is not changed).
// Errors are mlopt::Error.
torch::jit::Module freeze_for_inference(const torch::jit::Module& module, const FreezeOptions& options = {});

}  // namespace mlopt
