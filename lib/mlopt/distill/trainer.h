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

namespace mlopt::distill {

class Collective;

struct TrainConfig {
  int epochs = 10;
  int64_t batch_size = 64;
  double lr = 1e-3;
  std::string optimizer = "adam";  // adam | adamw | sgd (momentum 0.9)
  double weight_decay = 0;
  // Learning rate per epoch: const; cosine (lr * (1 + cos(pi * e / epochs)) / 2 for e = 0..);
  // step (x0.1 after each third of the epochs).
  std::string schedule = "const";
  double temperature = 4;
  double alpha = 0.7;
  uint64_t seed = 0;           // shuffling and dropout
  std::string checkpoint_dir;  // empty: no checkpoints; else one checkpoint after every epoch
  bool resume = false;         // continue from checkpoint_dir's last epoch
  bool keep_best = true;       // end with the weights of the epoch with the best validation score
  std::string label = "epoch"; // progress label prefix
};

struct TrainData {
  at::Tensor x_train, y_train;  // y_* undefined: no labels (alpha becomes 1; a teacher is needed)
  at::Tensor x_val, y_val;      // an empty validation split scores on the training split
};

struct EpochStats {
  int epoch = 0;  // 1-based
  double lr = 0;
  double train_loss = 0;
  double train_accuracy = 0;  // top-1 against labels, or agreement with the teacher without labels
  double val_accuracy = 0;    // same measure on the validation split
  int64_t samples = 0;        // over all ranks
  double seconds = 0;
  double samples_per_second() const { return seconds > 0 ? static_cast<double>(samples) / seconds : 0; }
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
