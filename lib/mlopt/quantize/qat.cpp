// Quantization-aware training (qat.h).
#include "mlopt/quantize/qat.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "mlopt/core/dataset.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/distill/checkpoint.h"
#include "mlopt/distill/trainer.h"
#include "mlopt/quantize/embedding_int8.h"
#include "mlopt/quantize/fake_quant.h"
#include "mlopt/quantize/fold_batch_norm.h"
#include "mlopt/quantize/int8_passes.h"
#include "mlopt/quantize/patterns.h"
#include "mlopt/quantize/quality_check.h"
#include "mlopt/quantize/quantize_support.h"
#include "mlopt/script/model_source.h"

namespace mlopt::quant {

namespace {

using quant_support::Batch;

constexpr int64_t kCalibrationBatch = 64;

// Calibration batches: --calibration's training split, else the training data's.
std::vector<Batch> calibration_batches(const QuantizeOptions& o, const Dataset& train,
                                       const std::vector<InputSpec>& specs) {
  at::Tensor x = train.x_train;
  if (!o.calibration.empty()) {
    auto d = o.data;
    d.path = o.calibration;
    auto data = load_dataset(d);
    x = data.x_train.size(0) > 0 ? data.x_train : data.x;
    quant_support::check_sample_shape(fmt::format("calibration data '{}'", o.calibration), x, specs);
    quant_support::check_finite_data(fmt::format("calibration data '{}'", o.calibration), x);
  }
  std::vector<Batch> out;
  int64_t n = std::min<int64_t>(x.size(0), o.calibration_samples);
  for (int64_t i = 0; i < n; i += kCalibrationBatch) out.push_back({x.slice(0, i, std::min(n, i + kCalibrationBatch))});
  return out;
}

// The int8 plan of static mode, with fake quantization; fails when no layer is left to quantize.
Int8Plan qat_plan(const QuantizeOptions& o, const torch::jit::Module& model, std::set<std::string>& float_modules) {
  auto layers = find_layers(model);
  Int8Plan plan;
  plan.weights = o.per_tensor ? Granularity::per_tensor : Granularity::per_channel;
  plan.fake_quant = true;
  size_t candidates = 0;
  for (const auto& l : layers) {
    if (!l.pattern->per_channel && !l.name.empty()) plan.per_tensor_modules.insert(l.name);
    if (quant_support::matches_any(l.name, o.skip)) {
      float_modules.insert(l.name);
    } else if (supported_in_mode(*l.pattern, "static")) {
      ++candidates;
    }
  }
  if (layers.empty())
    fail("'{}' has nothing to quantize: no Conv2d, Linear, LSTM, GRU or Embedding layers", o.model.path);
  if (candidates == 0)
    fail("'{}' has nothing to quantize in qat mode: {} layer(s), none with a static int8 kernel or all skipped",
         o.model.path, layers.size());
  plan.float_modules = float_modules;
  return plan;
}

void run_batches(torch::jit::Module& module, const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  module.eval();
  for (const auto& b : batches) module.forward(std::vector<c10::IValue>(b.begin(), b.end()));
}

// Folding computes new weights; the optimizer needs them as leaves of their own.
void make_parameters_leaves(torch::jit::Module& module) {
  for (auto m : module.modules())
    for (const auto& p : m.named_parameters(/*recurse=*/false))
      m.setattr(p.name, p.value.detach().clone().requires_grad_(true));
}

// Prepared (BatchNorm folded or not), calibrated like static int8, rounding on.
torch::jit::Module prepare_qat(const torch::jit::Module& model, Int8Plan plan, bool fold, const QuantizeOptions& o,
                               const std::vector<Batch>& calibration) {
  plan.fold_batch_norm = fold;
  auto prepared = prepare_static(model, plan);
  make_parameters_leaves(prepared);
  calibrate_static(prepared, o.observer, o.percentile, [&](torch::jit::Module& m) { run_batches(m, calibration); });
  start_fake_quant(prepared);
  return prepared;
}

// Parameters and buffers by name (the prepared module holds the model's own
// names next to its observers').
void copy_weights(const torch::jit::Module& from, torch::jit::Module& to) {
  std::map<std::string, at::Tensor> source;
  for (const auto& p : from.named_parameters()) source[p.name] = p.value;
  for (const auto& b : from.named_buffers()) source[b.name] = b.value;
  torch::NoGradGuard no_grad;
  auto take = [&](const std::string& name, const at::Tensor& target) {
    auto it = source.find(name);
    if (it != source.end() && it->second.sizes() == target.sizes()) target.detach().copy_(it->second);
  };
  for (const auto& p : to.named_parameters()) take(p.name, p.value);
  for (const auto& b : to.named_buffers()) take(b.name, b.value);
}

struct Phase {
  int epochs = 0;        // trained in this phase
  int epochs_before = 0; // trained in earlier phases
  std::string label, checkpoint;
  bool first = false;    // the run's first phase
};

// The phase's epochs into the run's history.
void record_phase(const distill::TrainResult& r, const Phase& phase, const char* name, QatModel& qat) {
  for (const auto& e : r.epochs)
    qat.history.push_back({name, phase.epochs_before + e.epoch, e.lr, e.train_loss, 100.0 * e.train_accuracy,
                           100.0 * e.val_accuracy, e.epoch < r.first_epoch});
  qat.resumed_epochs += r.first_epoch - 1;
  qat.seconds += r.seconds;
  qat.distillation = r.distillation;
  qat.alpha = r.alpha;
}

distill::TrainResult train_phase(torch::jit::Module& prepared, torch::jit::Module* teacher,
                                 const distill::TrainData& data, const QuantizeOptions& o, uint64_t seed,
                                 const Phase& phase) {
  distill::TrainConfig config = o.train;
  config.epochs = phase.epochs;
  if (!teacher) config.alpha = 0.0;
  config.seed = seed + static_cast<uint64_t>(phase.epochs_before);
  config.checkpoint_dir = phase.checkpoint;
  // A later phase resumes when the stopped run had reached it.
  config.resume = o.train.resume && !phase.checkpoint.empty() &&
                  (phase.first || std::filesystem::exists(distill::checkpoint_path(phase.checkpoint)));
  config.label = phase.label;
  // Activation ranges move for the first --freeze-observers-after epochs of the whole run.
  const int64_t steps_per_epoch = (data.x_train.size(0) + config.batch_size - 1) / config.batch_size;
  if (phase.epochs_before >= o.freeze_observers_after) freeze_observers(prepared);
  distill::TrainHooks hooks;
  hooks.after_step = [&](torch::jit::Module& student, int64_t step) {
    if (phase.epochs_before + step / steps_per_epoch >= o.freeze_observers_after) freeze_observers(student);
  };
  return distill::train(prepared, teacher, data, config, hooks);
}

std::string phase_checkpoint(const QuantizeOptions& o, const char* name) {
  if (o.train.checkpoint_dir.empty()) return "";
  auto dir = (std::filesystem::path(o.train.checkpoint_dir) / name).string();
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

QatModel train_qat(const QuantizeOptions& o, const GlobalOptions& globals) {
  auto source = o.model;
  source.seed = globals.seed;
  auto model = load_model(source).deepcopy();
  model.eval();
  auto specs = quant_support::input_specs(o);
  auto train = load_dataset(o.data);
  const auto what = fmt::format("training data '{}'", o.data.path);
  quant_support::check_sample_shape(what, train.x_train, specs);
  quant_support::check_finite_data(what, train.x);
  if (train.x_train.size(0) == 0) fail("{}: no training samples", what);

  QatModel qat;
  auto plan = qat_plan(o, model, qat.float_modules);
  auto calibration = calibration_batches(o, train, specs);
  qat.check_inputs = calibration.front();
  plan.fold_check_inputs = qat.check_inputs;
  // The model must run on the data before anything trains (one line, not a TorchScript trace).
  with_context(fmt::format("running '{}' on the {}", o.model.path, what), [&] { run_batches(model, {calibration.front()}); });

  std::optional<torch::jit::Module> teacher;
  if (!o.teacher.empty()) {
    ModelSource t;
    t.path = o.teacher;
    t.seed = globals.seed;
    teacher = load_model(t);
    teacher->eval();
  }
  distill::TrainData data{train.x_train, train.y_train, train.x_val, train.y_val};
  auto* teacher_ptr = teacher ? &*teacher : nullptr;

  distill::TrainResult last;
  if (o.freeze_bn_after > 0) {
    // BatchNorm statistics still move: train unfolded, then fold the trained statistics.
    auto live = prepare_qat(model, plan, /*fold=*/false, o, calibration);
    Phase phase{o.freeze_bn_after, 0, "qat (batch norm live) epoch", phase_checkpoint(o, "batch-norm"), true};
    last = train_phase(live, teacher_ptr, data, o, globals.seed, phase);
    record_phase(last, phase, "batch-norm", qat);
    copy_weights(live, model);
  }
  qat.calibrated_float = fold_batch_norms(model, qat.check_inputs).module;
  qat.prepared = prepare_qat(model, plan, /*fold=*/true, o, calibration);
  Phase phase{o.train.epochs - o.freeze_bn_after, o.freeze_bn_after, "qat epoch", phase_checkpoint(o, "folded"),
              o.freeze_bn_after == 0};
  last = train_phase(qat.prepared, teacher_ptr, data, o, globals.seed, phase);
  record_phase(last, phase, "folded", qat);
  qat.epochs = o.train.epochs;
  qat.fake_quant_accuracy = last.epochs.empty() ? 0 : 100.0 * last.epochs.back().val_accuracy;
  // Weight scales follow the weights training ended with (activation ranges stay: eval mode).
  run_batches(qat.prepared, {qat.check_inputs});

  qat.trained_float = fold_batch_norms(model, qat.check_inputs).module;
  copy_weights(qat.prepared, qat.trained_float);
  log::info("quantize: quantization-aware training done: {:.2f}% fake-quantized", qat.fake_quant_accuracy);
  return qat;
}

torch::jit::Module convert_qat(const QatModel& qat) {
  return convert_static(qat.prepared, embedding_int8_tables(qat.trained_float, qat.float_modules));
}

void record_training(const QatModel& qat, QuantizeResult& result) {
  result.has_training = true;
  result.train_epochs = qat.epochs;
  result.train_seconds = qat.seconds;
  result.fake_quant_accuracy = qat.fake_quant_accuracy;
  result.distillation = qat.distillation;
  result.distillation_alpha = qat.alpha;
  result.resumed_epochs = qat.resumed_epochs;
  result.training_history = qat.history;
}

}  // namespace mlopt::quant
