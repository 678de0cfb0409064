#pragma once
// Inference over a data split in batches, and the scores the trainer and the
// report need (top-1 accuracy, agreement, KL).
#include <torch/script.h>

namespace mlopt::distill {

// The module's first output for `x`, in eval mode without gradients, batch by
// batch; the module's train/eval mode is restored afterwards.
at::Tensor predict_logits(torch::jit::Module& module, const at::Tensor& x, int64_t batch_size = 256);

// Share (0..1) of rows whose argmax equals `labels` (or another logits' argmax).
double top1_accuracy(const at::Tensor& logits, const at::Tensor& labels);
double top1_agreement(const at::Tensor& logits_a, const at::Tensor& logits_b);

// The module's first output tensor of one forward (what the loss sees).
at::Tensor forward_logits(torch::jit::Module& module, const at::Tensor& x);

}  // namespace mlopt::distill
