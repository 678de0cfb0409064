#pragma once
// Recovery training after pruning: the unpruned model is the teacher
// (distillation loss on temperature-softened logits, plus cross-entropy when
// the data has labels), and pruned weights are put back to zero after every
// optimizer step so the achieved sparsity is kept.
//
// A minimal loop of its own: the distill trainer (lib/mlopt/distill) had not
// landed when this was written; FinetuneConfig maps onto its TrainConfig and
// `after_step` onto its TrainHooks when it does.
#include <torch/script.h>

#include <functional>
#include <vector>

namespace mlopt::pruning {

struct FinetuneConfig {
  int epochs = 3;
  int64_t batch_size = 64;
  double lr = 1e-3;
  double temperature = 4;
  double alpha = 0.7;  // weight of the distillation term (1 without labels)
  uint64_t seed = 0;
};

struct FinetuneResult {
  std::vector<double> epoch_losses;
};

// Trains `student` in place on (x, y) (y may be undefined) and leaves it in
// eval mode. `after_step` runs after each optimizer step (re-applies masks).
FinetuneResult finetune(torch::jit::Module& student, torch::jit::Module& teacher, const at::Tensor& x,
                        const at::Tensor& y, const FinetuneConfig& config,
                        const std::function<void(torch::jit::Module&)>& after_step);

// The module's first output for `x`, in eval mode, batch by batch.
at::Tensor predict(torch::jit::Module& module, const at::Tensor& x, int64_t batch_size = 256);

}  // namespace mlopt::pruning
