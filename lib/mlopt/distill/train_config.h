#pragma once
// What the trainer is asked to do (TrainConfig) and what one epoch did
// (EpochStats). Torch-free: the options and results of every command that
// trains — distill, prune's recovery fine-tuning, quantize --mode qat — embed
// these structs instead of copying their fields, and bind the fields they
// expose to the CLI/YAML in their own visit() (each with its own help text
// and defaults).
#include <cstdint>
#include <string>

namespace mlopt::distill {

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

// Usage errors (exit 2) for values the trainer cannot take, named by their CLI
// flags: --epochs, --batch-size, --lr, --weight-decay, --alpha, --temperature,
// --resume without --checkpoint. Commands
// call it from their check_options, so `run --dry-run` catches them too.
void check_train_config(const TrainConfig& config);

}  // namespace mlopt::distill
