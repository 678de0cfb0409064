#include "mlopt/prune/finetune.h"

#include "mlopt/core/error.h"
#include "mlopt/distill/evaluate.h"
#include "mlopt/distill/trainer.h"

namespace mlopt::pruning {

at::Tensor predict(torch::jit::Module& module, const at::Tensor& x, int64_t batch_size) {
  return distill::predict_logits(module, x, batch_size);
}

FinetuneResult finetune(torch::jit::Module& student, torch::jit::Module& teacher, const at::Tensor& x,
                        const at::Tensor& y, const distill::TrainConfig& config,
                        const std::function<void(torch::jit::Module&)>& after_step, const at::Tensor& x_val,
                        const at::Tensor& y_val) {
  if (x.size(0) == 0) fail("the fine-tuning data set is empty");
  distill::TrainConfig train = config;
  if (!y.defined()) train.alpha = 1.0;
  distill::TrainData data;
  data.x_train = x;
  data.y_train = y;
  data.x_val = x_val;
  data.y_val = y.defined() ? y_val : at::Tensor();
  distill::TrainHooks hooks;
  if (after_step) hooks.after_step = [&](torch::jit::Module& m, int64_t) { after_step(m); };
  auto trained = distill::train(student, &teacher, data, train, hooks);
  FinetuneResult result;
  for (const auto& e : trained.epochs) result.epoch_losses.push_back(e.train_loss);
  return result;
}

}  // namespace mlopt::pruning
