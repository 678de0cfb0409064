// The trainer on small synthetic data (10 noisy clusters of 1x8x8 images) with
// the digits models scripted by tests/fixtures/make_distill_fixtures.py.
#include <catch2/catch.hpp>

#include <ATen/Parallel.h>
#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/distill/evaluate.h"
#include "mlopt/distill/loss.h"
#include "mlopt/distill/trainer.h"
#include "support/test_support.h"

using namespace mlopt;
using namespace mlopt::distill;

namespace {

torch::jit::Module fixture(const std::string& name) {
  auto m = torch::jit::load(test::test_data("distill/" + name));
  m.eval();
  return m;
}

// Ten seeded cluster centres; samples are centre + noise.
TrainData clusters(int64_t train = 600, int64_t val = 200, double noise = 0.6) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(7);
  auto centres = at::randn({10, 1, 8, 8}, g);
  auto make = [&](int64_t n, at::Tensor& x, at::Tensor& y) {
    y = at::randint(10, {n}, g, at::kLong);
    x = centres.index_select(0, y) + noise * at::randn({n, 1, 8, 8}, g);
  };
  TrainData d;
  make(train, d.x_train, d.y_train);
  make(val, d.x_val, d.y_val);
  return d;
}

std::vector<at::Tensor> weights_of(torch::jit::Module& m) {
  std::vector<at::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : m.buffers()) out.push_back(b.detach().clone());
  return out;
}

bool same_weights(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!at::equal(a[i], b[i])) return false;
  return true;
}

TrainConfig quick(int epochs) {
  TrainConfig c;
  c.epochs = epochs;
  c.batch_size = 32;
  c.lr = 3e-3;
  c.alpha = 0;
  c.seed = 3;
  return c;
}

struct OneThread {
  int before = at::get_num_threads();
  OneThread() { at::set_num_threads(1); }
  ~OneThread() { at::set_num_threads(before); }
};

struct Quiet {
  log::Level before = log::level();
  Quiet() { log::set_level(log::Level::kQuiet); }
  ~Quiet() { log::set_level(before); }
};

}  // namespace

TEST_CASE("distill loss: KL of equal logits is 0, alpha 0 is cross-entropy, alpha 1 is T^2 KL", "[distill]") {
  auto g = at::make_generator<at::CPUGeneratorImpl>(1);
  auto s = at::randn({8, 5}, g), t = at::randn({8, 5}, g);
  auto y = at::randint(5, {8}, g, at::kLong);
  CHECK(soft_kl(s, s, 3.0).item<double>() == Approx(0).margin(1e-7));
  CHECK(distillation_loss(s, t, y, 4.0, 0.0).item<double>() ==
        Approx(at::cross_entropy_loss(s, y).item<double>()).epsilon(1e-6));
  // Reference: PyTorch's kl_div(log q, p) with batchmean reduction.
  auto reference = at::kl_div(at::log_softmax(s / 2, 1), at::softmax(t / 2, 1), at::Reduction::Sum) / 8;
  CHECK(distillation_loss(s, t, y, 2.0, 1.0).item<double>() == Approx(4 * reference.item<double>()).epsilon(1e-5));
  auto mixed = distillation_loss(s, t, y, 2.0, 0.25).item<double>();
  CHECK(mixed == Approx(0.25 * 4 * reference.item<double>() + 0.75 * at::cross_entropy_loss(s, y).item<double>())
                     .epsilon(1e-5));
}

TEST_CASE("trainer: supervised training (alpha 0, no teacher) raises validation accuracy", "[distill]") {
  Quiet quiet;
  auto data = clusters();
  auto student = fixture("digits_student.pt");
  double before = top1_accuracy(predict_logits(student, data.x_val), data.y_val);
  auto result = train(student, nullptr, data, quick(3));
  double after = top1_accuracy(predict_logits(student, data.x_val), data.y_val);
  CHECK(before < 0.3);
  CHECK(after > 0.9);
  CHECK_FALSE(result.distillation);
  REQUIRE(result.epochs.size() == 3);
  CHECK(result.best_val_accuracy == Approx(after));  // the best epoch's weights are what is left
  CHECK(result.samples == 3 * 600);
  CHECK(result.samples_per_second > 0);
  CHECK_FALSE(student.is_training());
}

TEST_CASE("trainer: a student distilled without labels learns the teacher's decisions", "[distill]") {
  Quiet quiet;
  auto data = clusters();
  auto teacher = fixture("digits_cnn.pt");
  train(teacher, nullptr, data, quick(2));
  double teacher_accuracy = top1_accuracy(predict_logits(teacher, data.x_val), data.y_val);
  REQUIRE(teacher_accuracy > 0.9);

  auto unlabelled = data;
  unlabelled.y_train = at::Tensor();
  unlabelled.y_val = at::Tensor();
  auto student = fixture("digits_student.pt");
  auto config = quick(4);
  config.alpha = 0.5;  // without labels alpha becomes 1
  auto result = train(student, &teacher, unlabelled, config);
  CHECK(result.distillation);
  CHECK(result.alpha == 1.0);
  double agreement = top1_agreement(predict_logits(student, data.x_val), predict_logits(teacher, data.x_val));
  CHECK(agreement > 0.85);
  CHECK(result.best_val_accuracy == Approx(agreement));
  CHECK(top1_accuracy(predict_logits(student, data.x_val), data.y_val) > 0.85);
}

TEST_CASE("trainer: the same seed gives identical weights on one thread", "[distill]") {
  Quiet quiet;
  OneThread one;
  auto data = clusters(256, 64);
  auto config = quick(2);
  config.optimizer = "adamw";
  config.weight_decay = 0.01;
  config.schedule = "cosine";
  auto run = [&](uint64_t seed) {
    auto model = fixture("digits_cnn.pt");  // dropout and BatchNorm: the RNG and buffers matter
    config.seed = seed;
    train(model, nullptr, data, config);
    return weights_of(model);
  };
  auto a = run(5), b = run(5), c = run(6);
  CHECK(same_weights(a, b));
  CHECK_FALSE(same_weights(a, c));
}

TEST_CASE("trainer: 2 epochs, then --resume for 2 more, equals 4 epochs straight", "[distill]") {
  Quiet quiet;
  OneThread one;
  auto data = clusters(256, 64);
  auto dir = test::temp_dir("distill-resume");
  auto config = quick(2);
  config.optimizer = "sgd";
  config.lr = 0.02;
  config.checkpoint_dir = dir + "/ckpt";

  auto first = fixture("digits_cnn.pt");
  train(first, nullptr, data, config);
  auto resumed = fixture("digits_cnn.pt");
  config.epochs = 4;
  config.resume = true;
  auto result = train(resumed, nullptr, data, config);
  CHECK(result.first_epoch == 3);
  CHECK(result.epochs.size() == 4);

  auto straight = fixture("digits_cnn.pt");
  config.resume = false;
  config.checkpoint_dir = dir + "/other";
  auto straight_result = train(straight, nullptr, data, config);
  CHECK(same_weights(weights_of(resumed), weights_of(straight)));
  CHECK(result.best_epoch == straight_result.best_epoch);
  CHECK(result.epochs.back().train_loss == straight_result.epochs.back().train_loss);

  // Settings that would break exactness are refused.
  config.resume = true;
  config.checkpoint_dir = dir + "/ckpt";
  config.batch_size = 16;
  auto again = fixture("digits_cnn.pt");
  CHECK_THROWS_WITH(train(again, nullptr, data, config), Catch::Contains("other settings"));
}

TEST_CASE("trainer: after_step runs after every optimizer step (pruning masks stay applied)", "[distill]") {
  Quiet quiet;
  auto data = clusters(320, 64);
  auto student = fixture("digits_student.pt");
  auto weight = student.attr("conv2").toModule().attr("weight").toTensor();
  auto mask = at::ones_like(weight);
  mask.slice(0, 0, 8).zero_();  // prune half of conv2's output channels
  int64_t steps = 0, epochs = 0;
  TrainHooks hooks;
  hooks.after_step = [&](torch::jit::Module& m, int64_t step) {
    CHECK(step == steps + 1);
    steps = step;
    torch::NoGradGuard no_grad;
    m.attr("conv2").toModule().attr("weight").toTensor().mul_(mask);
  };
  hooks.after_epoch = [&](const EpochStats&) { ++epochs; };
  auto result = train(student, nullptr, data, quick(4), hooks);
  CHECK(steps == 4 * 10);
  CHECK(epochs == 4);
  CHECK(weight.slice(0, 0, 8).abs().sum().item<double>() == 0);
  CHECK(result.best_val_accuracy > 0.5);
}

TEST_CASE("trainer: bad input fails before training with a clear message", "[distill]") {
  Quiet quiet;
  auto data = clusters(64, 16);
  auto teacher = fixture("digits_cnn.pt");
  auto config = quick(1);
  config.alpha = 0.5;
  SECTION("teacher and student outputs disagree") {
    auto student = fixture("digits_student5.pt");
    auto before = weights_of(student);
    CHECK_THROWS_WITH(train(student, &teacher, data, config),
                      Catch::Contains("teacher's output [2, 10] and the student's output [2, 5] disagree"));
    CHECK(same_weights(before, weights_of(student)));
  }
  SECTION("labels out of range") {
    auto student = fixture("digits_student.pt");
    data.y_train[3] = 12;
    CHECK_THROWS_WITH(train(student, &teacher, data, config),
                      Catch::Contains("label 12 is out of range: the student has 10 output classes"));
  }
  SECTION("empty data set") {
    auto student = fixture("digits_student.pt");
    data.x_train = data.x_train.slice(0, 0, 0);
    data.y_train = data.y_train.slice(0, 0, 0);
    CHECK_THROWS_WITH(train(student, &teacher, data, config), Catch::Contains("the data set is empty"));
  }
  SECTION("distillation without a teacher") {
    auto student = fixture("digits_student.pt");
    CHECK_THROWS_WITH(train(student, nullptr, data, config), Catch::Contains("needs a --teacher"));
  }
}
