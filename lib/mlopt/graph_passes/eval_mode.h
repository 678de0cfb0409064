#pragma once
// An eval-mode copy specialized module by module, for the post-training
// quantization passes.
//
// LibTorch's observer pass refuses an `if` whose two branches it would observe
// differently, and the models people bring branch on flags: torchvision's
// stochastic depth (EfficientNet, ConvNeXt, Swin) is `if not training or
// p == 0.0: return input`, MobileNetV2's and MNASNet's blocks are
// `if self.use_res_connect: return x + self.conv(x)`. Those flags are fixed in
// eval mode, but scripting gives equal blocks one class with one graph while
// the flag differs from block to block. So the copy gives every module a class
// of its own (the tensors are shared), and in each, the bool attributes that
// no method writes become constants: the scripted functions they are passed to
// are inlined and the branches they decide folded away.
namespace torch::jit {
struct Module;
}

namespace mlopt::graph_passes {

struct EvalSpecialization {
  int classes = 0;  // modules given a class of their own
  int folded = 0;   // reads of a bool attribute made constant
};

// `model` (put in eval mode) copied and specialized; `stats` (optional) says
// how much. A model with forward hooks or properties is copied as it is.
torch::jit::Module specialize_for_eval(const torch::jit::Module& model, EvalSpecialization* stats = nullptr);

}  // namespace mlopt::graph_passes
