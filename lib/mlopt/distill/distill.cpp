#include "mlopt/core/written_paths.h"
#include "mlopt/distill/distill.h"

#include <cmath>
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/distill/collective.h"
#include "mlopt/distill/evaluate.h"
#include "mlopt/distill/loss.h"
#include "mlopt/distill/trainer.h"
#include "mlopt/profile/latency.h"
#include "mlopt/script/model_source.h"

namespace mlopt {
void check_options(const DistillOptions& o) {
  if (o.student.empty()) fail_usage("--student is required (the model to train, .py or .pt)");
  if (o.data.path.empty()) fail_usage("--data is required (.csv, .csv.gz or .npz)");
  if (o.teacher.empty() && o.train.alpha != 0)
    fail_usage("--teacher is required unless --alpha 0 (plain training on the labels)");
  auto ext = extension_of(o.output);
  if (ext != ".pt" && ext != ".ptl") fail_usage("-o '{}': expected a .pt or .ptl file", o.output);
  distill::check_train_config(o.train);
}

namespace {

bool is_python(const std::string& path) { return extension_of(path) == ".py"; }

// --class/--init/--weights belong to the .py student, or to the .py teacher
// when the student is a .pt; --teacher-* name the teacher explicitly.
void resolve_sources(const DistillOptions& o, uint64_t seed, ModelSource& student, ModelSource& teacher) {
  student.path = o.student;
  teacher.path = o.teacher;
  student.seed = teacher.seed = seed;
  bool generic_to_teacher = !is_python(o.student) && is_python(o.teacher);
  auto& generic = generic_to_teacher ? teacher : student;
  generic.class_name = o.class_name;
  generic.init = o.init;
  generic.weights = o.weights;
  if (!o.teacher_class.empty()) teacher.class_name = o.teacher_class;
  if (!o.teacher_init.empty()) teacher.init = o.teacher_init;
  if (!o.teacher_weights.empty()) teacher.weights = o.teacher_weights;
}


std::string shape_spec(const at::Tensor& x) {
  std::string dims = "1";
  for (int64_t i = 1; i < x.dim(); ++i) dims += "x" + std::to_string(x.size(i));
  return "x:batch=" + dims + ":float32";
}

double mean_latency_ms(torch::jit::Module& module, const at::Tensor& sample) {
  LatencyOptions options;
  options.warmup = 5;
  options.min_time_s = 0.3;
  return measure_module_latency(module, {sample}, options).mean_ms;
}

void report_scores(torch::jit::Module& student, torch::jit::Module* teacher, const Dataset& data,
                   bool measure_latency, DistillResult& r) {
  bool has_val = data.x_val.defined() && data.x_val.size(0) > 0;
  const auto& x = has_val ? data.x_val : data.x_train;
  const auto& y = has_val ? data.y_val : data.y_train;
  auto student_logits = distill::predict_logits(student, x);
  if (y.defined()) r.student_accuracy = distill::top1_accuracy(student_logits, y);
  r.student_parameters = parameter_count(student);
  r.student_bytes = parameter_bytes(student);
  if (teacher == nullptr) return;
  auto teacher_logits = distill::predict_logits(*teacher, x);
  if (y.defined()) r.teacher_accuracy = distill::top1_accuracy(teacher_logits, y);
  r.agreement = distill::top1_agreement(student_logits, teacher_logits);
  r.kl = distill::soft_kl(student_logits, teacher_logits, 1.0).item<double>();
  r.teacher_parameters = parameter_count(*teacher);
  r.teacher_bytes = parameter_bytes(*teacher);
  r.parameter_ratio = static_cast<double>(r.teacher_parameters) / std::max<int64_t>(1, r.student_parameters);
  r.size_ratio = static_cast<double>(r.teacher_bytes) / std::max<int64_t>(1, r.student_bytes);
  if (measure_latency) {
    auto sample = x.slice(0, 0, 1);
    r.teacher_latency_ms = mean_latency_ms(*teacher, sample);
    r.student_latency_ms = mean_latency_ms(student, sample);
    r.latency_ratio = r.student_latency_ms > 0 ? r.teacher_latency_ms / r.student_latency_ms : 0;
  }
}

}  // namespace

DistillResult distill_model(const DistillOptions& options, const GlobalOptions& globals) {
  check_written_paths(options);
  check_options(options);
  auto env = distill::read_launch_environment();
  ModelSource student_source, teacher_source;
  resolve_sources(options, globals.seed, student_source, teacher_source);

  DataOptions data_options = options.data;
  data_options.split_seed = globals.seed;
  Dataset data = load_dataset(data_options);

  auto student = load_model(student_source);
  std::optional<torch::jit::Module> teacher;
  if (!options.teacher.empty()) {
    teacher = load_model(teacher_source);
    if (is_python(options.teacher) && teacher_source.weights.empty())
      log::warn("the teacher '{}' has no weights file: it is untrained (give --teacher-weights or a .pt)",
                options.teacher);
  }

  std::unique_ptr<distill::Collective> collective;
  if (env.distributed()) {
    collective = distill::join_process_group(env);
    if (env.rank == 0)
      log::info("data parallel: {} processes, {} training samples each", env.world_size,
                data.x_train.size(0) / env.world_size);
  }

  distill::TrainConfig config = options.train;
  config.seed = globals.seed;
  distill::TrainData train_data{data.x_train, data.y_train, data.x_val, data.y_val};
  auto trained = distill::train(student, teacher ? &*teacher : nullptr, train_data, config, {}, collective.get());

  DistillResult r;
  r.output = options.output;
  r.has_teacher = teacher.has_value();
  r.has_labels = data.has_labels();
  r.alpha = trained.alpha;
  r.rank = env.rank;
  r.world_size = env.world_size;
  r.train_samples = data.x_train.size(0);
  r.val_samples = data.x_val.defined() ? data.x_val.size(0) : 0;
  r.classes = distill::predict_logits(student, data.x_train.slice(0, 0, 1)).size(1);
  r.best_epoch = trained.best_epoch;
  r.first_epoch = trained.first_epoch;
  r.train_seconds = trained.seconds;
  r.samples_per_second = trained.samples_per_second;
  r.epochs = trained.epochs;
  if (env.rank != 0) return r;  // rank 0 writes the artifact and the report

  report_scores(student, teacher ? &*teacher : nullptr, data, !options.no_latency, r);
  SaveOptions save;
  save.metadata_json = nlohmann::json{{"producer", "mlopt distill"},
                                      {"input", shape_spec(data.x_train)},
                                      // file names only: the artifact must not depend on the folder
                                      {"teacher", std::filesystem::path(options.teacher).filename().string()},
                                      {"student", std::filesystem::path(options.student).filename().string()},
                                      {"alpha", r.alpha},
                                      {"temperature", options.train.temperature},
                                      {"best_epoch", r.best_epoch},
                                      {"val_accuracy", r.student_accuracy}}
                           .dump();
  save.check_inputs = {data.x_train.slice(0, 0, std::min<int64_t>(4, data.x_train.size(0)))};
  auto saved = save_module(student, options.output, save);
  r.format = saved.format;
  r.output_bytes = saved.size;
  r.wrote_output = true;
  return r;
}

nlohmann::json DistillResult::to_json() const {
  auto epochs_json = nlohmann::json::array();
  for (const auto& e : epochs)
    epochs_json.push_back({{"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.train_loss},
                           {"train_accuracy", e.train_accuracy}, {"val_accuracy", e.val_accuracy},
                           {"seconds", e.seconds}, {"samples_per_second", e.samples_per_second()}});
  nlohmann::json j{{"output", output},
                   {"format", format},
                   {"output_bytes", output_bytes},
                   {"alpha", alpha},
                   {"world_size", world_size},
                   {"train_samples", train_samples},
                   {"val_samples", val_samples},
                   {"classes", classes},
                   {"student", {{"accuracy", has_labels ? nlohmann::json(student_accuracy) : nlohmann::json()},
                                {"parameters", student_parameters},
                                {"parameter_bytes", student_bytes},
                                {"latency_ms", student_latency_ms}}},
                   {"training", {{"best_epoch", best_epoch},
                                 {"first_epoch", first_epoch},
                                 {"seconds", train_seconds},
                                 {"samples_per_second", samples_per_second},
                                 {"epochs", epochs_json}}}};
  if (has_teacher) {
    j["teacher"] = {{"accuracy", has_labels ? nlohmann::json(teacher_accuracy) : nlohmann::json()},
                    {"parameters", teacher_parameters},
                    {"parameter_bytes", teacher_bytes},
                    {"latency_ms", teacher_latency_ms}};
    j["agreement"] = agreement;
    j["kl"] = kl;
    j["parameter_ratio"] = parameter_ratio;
    j["size_ratio"] = size_ratio;
    j["latency_ratio"] = latency_ratio;
  }
  return j;
}

std::string DistillResult::to_text() const {
  std::string s = fmt::format("wrote {} ({}, {} bytes), best epoch {} of {}\n", output, format, output_bytes,
                              best_epoch, epochs.empty() ? 0 : epochs.back().epoch);
  if (has_labels) {
    s += fmt::format("student accuracy   {:.2f}% on {} validation samples\n", 100 * student_accuracy, val_samples);
    if (has_teacher) s += fmt::format("teacher accuracy   {:.2f}%\n", 100 * teacher_accuracy);
  }
  if (has_teacher) {
    s += fmt::format("top-1 agreement    {:.2f}%   KL(teacher||student) {:.4f}\n", 100 * agreement, kl);
    s += fmt::format("parameters         {} -> {} ({:.1f}x fewer), {:.1f}x smaller\n", teacher_parameters,
                     student_parameters, parameter_ratio, size_ratio);
    if (latency_ratio > 0)
      s += fmt::format("latency (batch 1)  {:.3f} ms -> {:.3f} ms ({:.2f}x)\n", teacher_latency_ms,
                       student_latency_ms, latency_ratio);
  } else {
    s += fmt::format("parameters         {}\n", student_parameters);
  }
  s += fmt::format("training           {:.1f} s, {:.0f} samples/s{}\n", train_seconds, samples_per_second,
                   world_size > 1 ? fmt::format(" over {} processes", world_size) : "");
  return s;
}

}  // namespace mlopt
