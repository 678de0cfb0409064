#pragma once
// The trainer: trains a TorchScript student in C++ (autograd + torch::optim),
// optionally against a teacher (knowledge distillation), optionally across
// processes (data parallel over a Collective). Used by `mlopt distill`, by the
// pipeline's train step, and by `prune` for fine-tuning (with `after_step` to
// re-apply pruning masks after each optimizer step).
//
// Loss per batch (logits s of the student, t of the teacher, labels y):
//   alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y)
// alpha = 0 (or no teacher) is plain supervised training; without labels alpha is 1.
#include <torch/script.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlopt/distill/train_config.h"

namespace mlopt::distill {

class Collective;

struct TrainData {
  at::Tensor x_train, y_train;  // y_* undefined: no labels (alpha becomes 1; a teacher is needed)
  at::Tensor x_val, y_val;      // an empty validation split scores on the training split
};

struct TrainHooks {
  // After every optimizer step; `step` counts from 1 over the whole run.
  std::function<void(torch::jit::Module& student, int64_t step)> after_step;
  // After each epoch's validation.
  std::function<void(const EpochStats& stats)> after_epoch;
};

struct TrainResult {
  std::vector<EpochStats> epochs;  // all epochs, resumed ones included
  int best_epoch = 0;
  double best_val_accuracy = 0;
  int first_epoch = 1;             // > 1 when resumed
  int64_t samples = 0;             // trained on in this run, over all ranks
  double seconds = 0;              // training time of this run (validation included)
  double samples_per_second = 0;
  bool distillation = false;       // the teacher term was used (alpha > 0)
  double alpha = 0;                // effective alpha
};

// Checks shapes, labels and sizes, then trains `student` in place. Returns with
// the student in eval mode holding the best epoch's weights (keep_best) or the
// last epoch's. `teacher` may be null when alpha is 0 (and labels exist).
// Bad input (mismatched output shapes, labels out of range, an empty data set)
// fails before the first step.
TrainResult train(torch::jit::Module& student, torch::jit::Module* teacher, const TrainData& data,
                  const TrainConfig& config, const TrainHooks& hooks = {}, Collective* collective = nullptr);

}  // namespace mlopt::distill
