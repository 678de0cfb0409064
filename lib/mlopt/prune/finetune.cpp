#include "mlopt/prune/finetune.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adam.h>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"

namespace mlopt::pruning {

namespace {
at::Tensor first_output(torch::jit::Module& module, const at::Tensor& x) {
  auto outputs = flatten_outputs(module.forward({x}));
  if (outputs.empty()) fail("the model returns no tensor to train on");
  return outputs.front();
}
}  // namespace

at::Tensor predict(torch::jit::Module& module, const at::Tensor& x, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  module.eval();
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += batch_size)
    parts.push_back(first_output(module, x.slice(0, i, std::min(x.size(0), i + batch_size))));
  return at::cat(parts);
}

FinetuneResult finetune(torch::jit::Module& student, torch::jit::Module& teacher, const at::Tensor& x,
                        const at::Tensor& y, const FinetuneConfig& config,
                        const std::function<void(torch::jit::Module&)>& after_step) {
  FinetuneResult result;
  if (x.size(0) == 0) fail("the fine-tuning data set is empty");
  std::vector<at::Tensor> params;
  for (const auto& p : student.parameters())
    if (p.requires_grad()) params.push_back(p);
  if (params.empty()) fail("the pruned model has no trainable parameter");
  auto teacher_logits = predict(teacher, x);
  double alpha = y.defined() ? config.alpha : 1.0;
  double t = config.temperature;
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(config.lr));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    student.train();
    auto order = at::randperm(x.size(0), gen, at::kLong);
    double total = 0;
    int64_t batches = 0;
    for (int64_t i = 0; i < x.size(0); i += config.batch_size) {
      auto idx = order.slice(0, i, std::min(x.size(0), i + config.batch_size));
      if (idx.numel() < 2) continue;  // BatchNorm needs two samples in training mode
      auto logits = first_output(student, x.index_select(0, idx));
      auto soft_teacher = at::softmax(teacher_logits.index_select(0, idx) / t, -1);
      auto loss = alpha * t * t * at::kl_div(at::log_softmax(logits / t, -1), soft_teacher, at::Reduction::Mean) *
                  static_cast<double>(logits.size(-1));
      if (y.defined() && alpha < 1) loss = loss + (1 - alpha) * at::cross_entropy_loss(logits, y.index_select(0, idx));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      if (after_step) after_step(student);
      total += loss.item<double>();
      ++batches;
    }
    result.epoch_losses.push_back(batches ? total / static_cast<double>(batches) : 0);
    log::info("finetune epoch {}/{}: loss {:.4f}", epoch, config.epochs, result.epoch_losses.back());
  }
  student.eval();
  return result;
}

}  // namespace mlopt::pruning
