#pragma once
// The distillation loss (Hinton et al.): a soft term that pulls the student's
// temperature-softened distribution towards the teacher's, and a hard term on
// the labels.
#include <ATen/core/Tensor.h>

namespace mlopt::distill {

// KL(softmax(teacher/T) || softmax(student/T)), summed over classes and
// averaged over the batch ("batchmean"). Logits are [N, C].
at::Tensor soft_kl(const at::Tensor& student_logits, const at::Tensor& teacher_logits, double temperature);

// alpha * T^2 * soft_kl + (1 - alpha) * cross_entropy(student, labels).
// `teacher_logits` may be undefined when alpha is 0; `labels` when alpha is 1.
at::Tensor distillation_loss(const at::Tensor& student_logits, const at::Tensor& teacher_logits,
                             const at::Tensor& labels, double temperature, double alpha);

}  // namespace mlopt::distill
