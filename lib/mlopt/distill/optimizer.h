#pragma once
// Optimizers and learning-rate schedules by name. torch/optim.h stays in the
// .cpp: callers only hold the pointer.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace torch::optim {
class Optimizer;
}

namespace mlopt::distill {

struct TrainConfig;

// adam | adamw | sgd (momentum 0.9) over `parameters`, with the config's lr and weight decay.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& config, std::vector<at::Tensor> parameters);

// The learning rate of `epoch` (1-based) under the config's schedule.
double learning_rate_at(const TrainConfig& config, int epoch);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// The names accepted by make_optimizer / learning_rate_at (for option checks).
const std::vector<std::string>& optimizer_names();
const std::vector<std::string>& schedule_names();

}  // namespace mlopt::distill
