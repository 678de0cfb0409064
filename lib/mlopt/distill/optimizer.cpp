#include "mlopt/distill/optimizer.h"

#include <torch/optim.h>

#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/distill/trainer.h"

namespace mlopt::distill {

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names{"adam", "adamw", "sgd"};
  return names;
}

const std::vector<std::string>& schedule_names() {
  static const std::vector<std::string> names{"const", "cosine", "step"};
  return names;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& config, std::vector<at::Tensor> parameters) {
  if (config.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(config.lr).weight_decay(config.weight_decay));
  if (config.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        parameters, torch::optim::AdamWOptions(config.lr).weight_decay(config.weight_decay));
  if (config.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(config.lr).momentum(0.9).weight_decay(config.weight_decay));
  fail("unknown optimizer '{}' (expected adam, adamw or sgd)", config.optimizer);
}

double learning_rate_at(const TrainConfig& config, int epoch) {
  int e = epoch - 1;  // epochs already done
  if (config.schedule == "const") return config.lr;
  if (config.schedule == "cosine") return config.lr * 0.5 * (1 + std::cos(M_PI * e / std::max(1, config.epochs)));
  if (config.schedule == "step") {
    int step = std::max(1, (config.epochs + 2) / 3);
    return config.lr * std::pow(0.1, e / step);
  }
  fail("unknown schedule '{}' (expected const, cosine or step)", config.schedule);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace mlopt::distill
