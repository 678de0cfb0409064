#pragma once
// Training checkpoints: one file, `<dir>/checkpoint.pt`, rewritten atomically
// after every epoch. It holds the student's parameters and buffers, the best
// epoch's weights, the optimizer state, the epoch, the CPU generator state
// and the epoch history, so that a resumed run continues exactly where the
// last one stopped (identical weights on one thread).
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace torch::optim {
class Optimizer;
}

namespace mlopt::distill {

struct EpochStats;

struct TrainerState {
  int epoch = 0;  // epochs finished
  int best_epoch = 0;
  double best_val_accuracy = -1;
  std::vector<at::Tensor> student;  // parameters then buffers, in module order
  std::vector<at::Tensor> best;     // the same for the best epoch (empty: none yet)
  at::Tensor rng_state;             // the default CPU generator (dropout)
  std::vector<EpochStats> history;
  // Settings that must not change across a resume (optimizer, batch size, world size ...).
  std::string fingerprint;
};

std::string checkpoint_path(const std::string& dir);
void save_checkpoint(const std::string& dir, const TrainerState& state, torch::optim::Optimizer& optimizer);
// Fills `state` and the optimizer from `dir`; errors name the file and what does not fit.
void load_checkpoint(const std::string& dir, TrainerState& state, torch::optim::Optimizer& optimizer);

}  // namespace mlopt::distill
