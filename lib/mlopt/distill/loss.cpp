#include "mlopt/distill/loss.h"

#include <ATen/ATen.h>

namespace mlopt::distill {

at::Tensor soft_kl(const at::Tensor& student_logits, const at::Tensor& teacher_logits, double temperature) {
  auto log_p_student = at::log_softmax(student_logits / temperature, 1);
  auto log_p_teacher = at::log_softmax(teacher_logits / temperature, 1);
  return (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(1).mean();
}

at::Tensor distillation_loss(const at::Tensor& student_logits, const at::Tensor& teacher_logits,
                             const at::Tensor& labels, double temperature, double alpha) {
  at::Tensor loss;
  if (alpha > 0) loss = alpha * temperature * temperature * soft_kl(student_logits, teacher_logits, temperature);
  if (alpha < 1) {
    auto hard = (1 - alpha) * at::cross_entropy_loss(student_logits, labels);
    loss = loss.defined() ? loss + hard : hard;
  }
  return loss;
}

}  // namespace mlopt::distill
