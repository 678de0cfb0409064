#pragma once
// Eval mode as constants: a module in eval mode reads `self.training` as the
// constant False, and the branches that read decides are folded away.
//
// LibTorch's observer pass refuses an `if` whose two branches it would observe
// differently, and torchvision's stochastic depth (EfficientNet, ConvNeXt,
// Swin) is `if not training or p == 0.0: return input` in eval mode. The
// graphs belong to the module's classes: for a copy that stays in eval mode
// (the quantize passes' own clone), never for a model that trains afterwards.
namespace torch::jit {
struct Module;
}

namespace mlopt::graph_passes {

// Folds the `training` reads of every eval-mode module of `module` (methods
// its submodules share are rewritten once); returns how many reads it folded.
int fold_eval_mode(torch::jit::Module& module);

}  // namespace mlopt::graph_passes
