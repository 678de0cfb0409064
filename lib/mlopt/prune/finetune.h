#pragma once
// Recovery training after pruning, on the distill trainer (lib/mlopt/distill):
// the unpruned model is the teacher (distillation loss on temperature-softened
// logits, plus cross-entropy when the data has labels), and the trainer's
// per-step hook puts pruned weights back to zero after every optimizer step,
// so the achieved sparsity is kept.
#include <torch/script.h>

#include <functional>
#include <vector>

#include "mlopt/distill/train_config.h"

namespace mlopt::pruning {

struct FinetuneResult {
  std::vector<double> epoch_losses;
};

// Trains `student` in place on (x, y) (y may be undefined: then the teacher
// alone is the target; x_val/y_val, when defined, only report progress) and leaves it in eval mode with the last
// epoch's weights. `after_step` runs after each optimizer step (re-applies masks).
FinetuneResult finetune(torch::jit::Module& student, torch::jit::Module& teacher, const at::Tensor& x,
                        const at::Tensor& y, const distill::TrainConfig& config,
                        const std::function<void(torch::jit::Module&)>& after_step,
                        const at::Tensor& x_val = {}, const at::Tensor& y_val = {});

// The module's first output for `x`, in eval mode, batch by batch.
at::Tensor predict(torch::jit::Module& module, const at::Tensor& x, int64_t batch_size = 256);

}  // namespace mlopt::pruning
