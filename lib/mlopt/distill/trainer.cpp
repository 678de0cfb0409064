#include "mlopt/distill/trainer.h"

#include <cmath>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim.h>

#include <chrono>
#include <optional>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/progress.h"
#include "mlopt/distill/checkpoint.h"
#include "mlopt/distill/collective.h"
#include "mlopt/distill/evaluate.h"
#include "mlopt/distill/loss.h"
#include "mlopt/distill/optimizer.h"

namespace mlopt::distill {
namespace {

using Clock = std::chrono::steady_clock;

std::string shape_of(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

std::vector<at::Tensor> parameters_of(torch::jit::Module& module) {
  std::vector<at::Tensor> params;
  for (const auto& p : module.parameters()) params.push_back(p);
  return params;
}

// Parameters then buffers (BatchNorm statistics): everything a checkpoint restores.
std::vector<at::Tensor> state_of(torch::jit::Module& module) {
  auto state = parameters_of(module);
  for (const auto& b : module.buffers()) state.push_back(b);
  return state;
}

std::vector<at::Tensor> snapshot(const std::vector<at::Tensor>& state) {
  std::vector<at::Tensor> copy;
  for (const auto& t : state) copy.push_back(t.detach().clone());
  return copy;
}

void restore(const std::vector<at::Tensor>& state, const std::vector<at::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < state.size(); ++i) state[i].detach().copy_(saved[i]);
}

void check_config(const TrainConfig& c) {
  if (c.epochs < 1) fail("--epochs must be at least 1 (got {})", c.epochs);
  if (c.batch_size < 1) fail("--batch-size must be at least 1 (got {})", c.batch_size);
  if (!(c.lr > 0 && std::isfinite(c.lr))) fail("--lr must be a positive finite number (got {})", c.lr);
  if (!(c.weight_decay >= 0 && std::isfinite(c.weight_decay)))
    fail("--weight-decay must be a finite number, 0 or more (got {})", c.weight_decay);
  if (!(c.temperature > 0 && std::isfinite(c.temperature)))
    fail("--temperature must be a positive finite number (got {})", c.temperature);
  if (c.alpha < 0 || c.alpha > 1) fail("--alpha must be between 0 and 1 (got {})", c.alpha);
  if (c.resume && c.checkpoint_dir.empty()) fail("--resume needs --checkpoint DIR");
  learning_rate_at(c, 1);  // names an unknown schedule
}

// Everything that can be wrong with the input fails here, before the first step.
int64_t check_inputs(torch::jit::Module& student, torch::jit::Module* teacher, const TrainData& data,
                     double alpha) {
  if (!data.x_train.defined() || data.x_train.size(0) == 0)
    fail("the data set is empty: no training samples");
  if (parameters_of(student).empty())
    fail("the student has no parameters to train (a frozen module? give the unfrozen .pt or the .py source)");
  auto probe = data.x_train.slice(0, 0, std::min<int64_t>(2, data.x_train.size(0)));
  auto student_out = with_context("running the student on the data", [&] { return predict_logits(student, probe); });
  if (student_out.dim() != 2)
    fail("the student's output {} is not logits [batch, classes]", shape_of(student_out));
  int64_t classes = student_out.size(1);
  if (teacher != nullptr) {
    auto teacher_out = with_context("running the teacher on the data", [&] { return predict_logits(*teacher, probe); });
    if (!teacher_out.sizes().equals(student_out.sizes()))
      fail("the teacher's output {} and the student's output {} disagree (expected the same [batch, classes])",
           shape_of(teacher_out), shape_of(student_out));
  } else if (alpha > 0) {
    fail(data.y_train.defined() ? "--alpha {} needs a --teacher (alpha 0 trains on the labels alone)"
                                : "the data set has no labels: distillation needs a --teacher",
         alpha);
  }
  for (const auto* labels : {&data.y_train, &data.y_val}) {
    if (!labels->defined() || labels->numel() == 0) continue;
    int64_t low = labels->min().item<int64_t>(), high = labels->max().item<int64_t>();
    if (low < 0 || high >= classes)
      fail("label {} is out of range: the student has {} output classes (labels 0..{})", low < 0 ? low : high,
           classes, classes - 1);
  }
  return classes;
}

std::string fingerprint_of(const TrainConfig& c, int world_size, double alpha) {
  return fmt::format("optimizer {} lr {} weight-decay {} schedule {} batch-size {} alpha {} temperature {} seed {} "
                     "world-size {}",
                     c.optimizer, c.lr, c.weight_decay, c.schedule, c.batch_size, alpha, c.temperature, c.seed,
                     world_size);
}

at::Generator& default_generator() {
  static at::Generator g = at::detail::getDefaultCPUGenerator();
  return g;
}

// Every rank walks the same seeded permutation of the training split and takes
// its own contiguous shard of equal size, so that all ranks run the same
// number of steps (the collectives pair up).
at::Tensor shard_order(int64_t n, int epoch, uint64_t seed, int rank, int world) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  auto order = at::randperm(n, generator, at::TensorOptions().dtype(at::kLong));
  int64_t per_rank = n / world;
  return order.slice(0, rank * per_rank, (rank + 1) * per_rank);
}

void ensure_gradients(const std::vector<at::Tensor>& params) {
  for (const auto& p : params)
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
}

std::vector<at::Tensor> floating_buffers(torch::jit::Module& module) {
  std::vector<at::Tensor> out;
  for (const auto& b : module.buffers())
    if (b.is_floating_point()) out.push_back(b);
  return out;
}

struct EpochTotals {
  double loss_sum = 0;  // over batches
  double batches = 0;
  double correct = 0;
  double seen = 0;
};

class Run {
 public:
  Run(torch::jit::Module& student, torch::jit::Module* teacher, const TrainData& data, const TrainConfig& config,
      const TrainHooks& hooks, Collective* collective)
      : student_(student), teacher_(teacher), data_(data), config_(config), hooks_(hooks), collective_(collective) {}

  TrainResult run();

 private:
  int rank() const { return collective_ ? collective_->rank() : 0; }
  int world() const { return collective_ ? collective_->world_size() : 1; }
  bool is_root() const { return rank() == 0; }
  EpochStats train_epoch(int epoch);
  double validate();
  void start_or_resume();

  torch::jit::Module& student_;
  torch::jit::Module* teacher_;
  const TrainData& data_;
  const TrainConfig& config_;
  const TrainHooks& hooks_;
  Collective* collective_;

  double alpha_ = 0;
  at::Tensor teacher_train_, teacher_val_;  // teacher logits, computed once (eval mode, no augmentation)
  std::vector<at::Tensor> params_, state_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  TrainerState saved_;
  int64_t step_ = 0;
};

void Run::start_or_resume() {
  saved_.fingerprint = fingerprint_of(config_, world(), alpha_);
  saved_.student = state_;
  if (config_.resume) {
    load_checkpoint(config_.checkpoint_dir, saved_, *optimizer_);
    restore(state_, saved_.student);
    default_generator().set_state(saved_.rng_state);
    if (saved_.epoch >= config_.epochs)
      log::warn("checkpoint '{}' already has {} epochs; --epochs {} trains no more", config_.checkpoint_dir,
                saved_.epoch, config_.epochs);
    int64_t steps_per_epoch = (data_.x_train.size(0) / world() + config_.batch_size - 1) / config_.batch_size;
    step_ = steps_per_epoch * saved_.epoch;
    if (is_root()) log::info("resuming after epoch {} from '{}'", saved_.epoch, checkpoint_path(config_.checkpoint_dir));
  } else {
    // Dropout draws from the default generator; each rank its own stream.
    default_generator().set_current_seed(config_.seed + static_cast<uint64_t>(rank()));
  }
  // Every rank starts from rank 0's weights.
  if (collective_) broadcast_from_root(*collective_, state_);
}

EpochStats Run::train_epoch(int epoch) {
  EpochStats stats;
  stats.epoch = epoch;
  stats.lr = learning_rate_at(config_, epoch);
  set_learning_rate(*optimizer_, stats.lr);
  auto order = shard_order(data_.x_train.size(0), epoch, config_.seed, rank(), world());
  int64_t local = order.size(0);
  int64_t steps = (local + config_.batch_size - 1) / config_.batch_size;
  bool labels = data_.y_train.defined();
  // Only rank 0 shows progress: one display for the whole job.
  std::optional<Progress> progress;
  if (is_root()) progress.emplace(fmt::format("{} {}/{}", config_.label, epoch, config_.epochs), steps);
  EpochTotals totals;
  auto start = Clock::now();
  student_.train();
  for (int64_t s = 0; s < steps; ++s) {
    auto idx = order.slice(0, s * config_.batch_size, std::min(local, (s + 1) * config_.batch_size));
    auto x = data_.x_train.index_select(0, idx);
    auto y = labels ? data_.y_train.index_select(0, idx) : at::Tensor();
    auto t = teacher_train_.defined() ? teacher_train_.index_select(0, idx) : at::Tensor();
    auto logits = forward_logits(student_, x);
    auto loss = distillation_loss(logits, t, y, config_.temperature, alpha_);
    optimizer_->zero_grad();
    loss.backward();
    if (collective_) {
      ensure_gradients(params_);
      std::vector<at::Tensor> grads;
      for (const auto& p : params_) grads.push_back(p.grad());
      all_reduce_mean(*collective_, grads);
    }
    optimizer_->step();
    ++step_;
    if (hooks_.after_step) hooks_.after_step(student_, step_);
    {
      torch::NoGradGuard no_grad;
      auto target = labels ? y : t.argmax(1);
      totals.correct += logits.argmax(1).eq(target).sum().item<double>();
    }
    totals.loss_sum += loss.item<double>();
    totals.batches += 1;
    totals.seen += static_cast<double>(idx.size(0));
    if (progress && progress->live()) {
      double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      progress->update(s + 1, fmt::format("loss {:.4f} acc {:.1f}% {:.0f} samples/s", totals.loss_sum / totals.batches,
                                         100 * totals.correct / totals.seen, totals.seen * world() / elapsed));
    }
  }
  if (collective_) {
    // BatchNorm statistics differ per shard: average them so every rank holds the same model.
    auto buffers = floating_buffers(student_);
    all_reduce_mean(*collective_, buffers);
    auto sums = at::tensor({totals.loss_sum, totals.batches, totals.correct, totals.seen}, at::kDouble);
    collective_->all_reduce_sum(sums);
    totals = {sums[0].item<double>(), sums[1].item<double>(), sums[2].item<double>(), sums[3].item<double>()};
  }
  stats.train_loss = totals.loss_sum / std::max(1.0, totals.batches);
  // A diverged model is no result: its NaN weights would pass through every
  // later step as a "trained" artifact.
  if (!std::isfinite(stats.train_loss))
    fail("training diverged in epoch {}: the loss is {}; lower --lr (now {:g}) or check the data for NaN/Inf",
         stats.epoch, stats.train_loss, stats.lr);
  stats.train_accuracy = totals.correct / std::max(1.0, totals.seen);
  stats.samples = static_cast<int64_t>(totals.seen);
  stats.val_accuracy = validate();
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (progress)
    progress->finish(fmt::format("loss {:.4f} acc {:.1f}% val {:.1f}% lr {:.3g} {:.0f} samples/s {}", stats.train_loss,
                              100 * stats.train_accuracy, 100 * stats.val_accuracy, stats.lr,
                              stats.samples_per_second(), format_duration(stats.seconds)));
  return stats;
}

// Top-1 accuracy on the validation split (agreement with the teacher without
// labels); the training split stands in when there is no validation split.
double Run::validate() {
  bool has_val = data_.x_val.defined() && data_.x_val.size(0) > 0;
  const auto& x = has_val ? data_.x_val : data_.x_train;
  const auto& y = has_val ? data_.y_val : data_.y_train;
  auto logits = predict_logits(student_, x, std::max<int64_t>(config_.batch_size, 256));
  double score = y.defined() ? top1_accuracy(logits, y)
                             : top1_agreement(logits, has_val ? teacher_val_ : teacher_train_);
  if (collective_) {
    // Ranks hold the same weights; rank 0's score decides for all (bitwise-equal choices).
    auto value = at::tensor({score}, at::kDouble);
    collective_->broadcast_from_root(value);
    score = value.item<double>();
  }
  return score;
}

TrainResult Run::run() {
  check_config(config_);
  bool labels = data_.y_train.defined();
  alpha_ = labels ? (teacher_ ? config_.alpha : 0.0) : 1.0;
  if (labels && !teacher_ && config_.alpha > 0)
    fail("--alpha {} needs a --teacher (alpha 0 trains on the labels alone)", config_.alpha);
  check_inputs(student_, teacher_, data_, alpha_);
  if (data_.x_train.size(0) / world() == 0)
    fail("the training split has {} samples, fewer than the {} processes", data_.x_train.size(0), world());

  if (teacher_ && alpha_ > 0) {
    teacher_->eval();
    teacher_train_ = with_context("running the teacher", [&] { return predict_logits(*teacher_, data_.x_train); });
    if (!labels && data_.x_val.defined() && data_.x_val.size(0) > 0)
      teacher_val_ = predict_logits(*teacher_, data_.x_val);
  }
  params_ = parameters_of(student_);
  for (auto& p : params_) p.detach().requires_grad_(true);
  state_ = state_of(student_);
  optimizer_ = make_optimizer(config_, params_);
  start_or_resume();

  TrainResult result;
  result.alpha = alpha_;
  result.distillation = alpha_ > 0;
  result.first_epoch = saved_.epoch + 1;
  result.epochs = saved_.history;
  auto start = Clock::now();
  for (int epoch = saved_.epoch + 1; epoch <= config_.epochs; ++epoch) {
    auto stats = train_epoch(epoch);
    result.samples += stats.samples;
    if (stats.val_accuracy > saved_.best_val_accuracy) {
      saved_.best_val_accuracy = stats.val_accuracy;
      saved_.best_epoch = epoch;
      if (config_.keep_best) saved_.best = snapshot(state_);
    }
    saved_.epoch = epoch;
    saved_.history.push_back(stats);
    result.epochs.push_back(stats);
    if (!config_.checkpoint_dir.empty()) {
      if (is_root()) {
        saved_.student = state_;
        saved_.rng_state = default_generator().get_state();
        save_checkpoint(config_.checkpoint_dir, saved_, *optimizer_);
      }
      if (collective_) collective_->barrier();
    }
    if (hooks_.after_epoch) hooks_.after_epoch(stats);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.samples_per_second = result.seconds > 0 ? static_cast<double>(result.samples) / result.seconds : 0;
  result.best_epoch = saved_.best_epoch;
  result.best_val_accuracy = saved_.best_val_accuracy;
  if (config_.keep_best && !saved_.best.empty()) restore(state_, saved_.best);
  student_.eval();
  return result;
}

}  // namespace

TrainResult train(torch::jit::Module& student, torch::jit::Module* teacher, const TrainData& data,
                  const TrainConfig& config, const TrainHooks& hooks, Collective* collective) {
  return Run(student, teacher, data, config, hooks, collective).run();
}

}  // namespace mlopt::distill
