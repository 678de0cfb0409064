#include "mlopt/distill/evaluate.h"

#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"

namespace mlopt::distill {

at::Tensor forward_logits(torch::jit::Module& module, const at::Tensor& x) {
  auto outputs = flatten_outputs(module.forward({x}));
  if (outputs.empty()) fail("the model returned no tensor (expected logits [batch, classes])");
  return outputs[0];
}

at::Tensor predict_logits(torch::jit::Module& module, const at::Tensor& x, int64_t batch_size) {
  bool was_training = module.is_training();
  module.eval();
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < x.size(0); start += batch_size)
    parts.push_back(forward_logits(module, x.slice(0, start, std::min(start + batch_size, x.size(0)))));
  if (was_training) module.train();
  return parts.empty() ? at::Tensor() : at::cat(parts, 0);
}

double top1_accuracy(const at::Tensor& logits, const at::Tensor& labels) {
  if (!logits.defined() || logits.size(0) == 0) return 0;
  return logits.argmax(1).eq(labels).sum().item<double>() / static_cast<double>(logits.size(0));
}

double top1_agreement(const at::Tensor& logits_a, const at::Tensor& logits_b) {
  return top1_accuracy(logits_a, logits_b.argmax(1));
}

}  // namespace mlopt::distill
