#pragma once
// `mlopt distill`: trains a student model against a teacher (knowledge
// distillation) or on labels alone (--alpha 0, no teacher: plain training),
// keeps the best epoch by validation accuracy, and reports how the student
// compares with the teacher. Data-parallel across processes when launched the
// torchrun way (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT).
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlopt/core/dataset.h"
#include "mlopt/core/options.h"
#include "mlopt/distill/train_config.h"

namespace mlopt {

struct DistillOptions {
  std::string teacher;  // .pt | .py; optional with --alpha 0
  std::string student;  // .pt | .py
  // .py models: --class/--init/--weights name the student when it is a .py file
  // (else the teacher); --teacher-class/--teacher-init/--teacher-weights the teacher
  // when both are .py files.
  std::string class_name;
  std::vector<std::string> init;
  std::string weights;
  std::string teacher_class;
  std::vector<std::string> teacher_init;
  std::string teacher_weights;
  DataOptions data;
  distill::TrainConfig train;  // seed and label are set by distill_model
  bool no_latency = false;
  std::string output;

  template <class V>
  void visit(V& v) {
    v.option("teacher", teacher, "Teacher model (.pt or .py); may be left out with --alpha 0");
    v.option("student", student, "Student model to train (.py or .pt)");
    v.option("class", class_name, "Model class of the .py student (or of the .py teacher when the student is a .pt)");
    v.option("init", init, "Constructor argument key=value of that .py model (repeatable)");
    v.option("weights", weights, "Weights file of that .py model (.pth/.pt/.safetensors)");
    v.option("teacher-class", teacher_class, "Model class of the .py teacher when both models are .py files");
    v.option("teacher-init", teacher_init, "Constructor argument key=value of the .py teacher (repeatable)");
    v.option("teacher-weights", teacher_weights, "Weights file of the .py teacher");
    v.option("data", data.path, "Data set: .csv/.csv.gz (label in the last column) or .npz (x, y)");
    data.visit(v);
    v.option("temperature", train.temperature, "Softmax temperature of the distillation term");
    v.option("alpha", train.alpha, "Weight of the distillation term (0: labels only; 1: teacher only)");
    v.option("epochs", train.epochs, "Training epochs");
    v.option("batch-size", train.batch_size, "Samples per step (per process)");
    v.option("lr", train.lr, "Learning rate");
    v.choice("optimizer", train.optimizer, {"adam", "adamw", "sgd"}, "Optimizer (sgd uses momentum 0.9)");
    v.option("weight-decay", train.weight_decay, "Weight decay");
    v.choice("schedule", train.schedule, {"const", "cosine", "step"}, "Learning-rate schedule over the epochs");
    v.option("checkpoint", train.checkpoint_dir, "Folder for a checkpoint after every epoch");
    v.flag("resume", train.resume, "Continue from the checkpoint in --checkpoint");
    v.flag("no-latency", no_latency, "Skip the teacher/student latency measurement in the report");
    v.output("output", output, "Trained student: .pt (TorchScript) or .ptl (lite interpreter)");
  }
};

struct DistillResult {
  std::string output, format;
  int64_t output_bytes = 0;
  bool has_teacher = false;
  bool has_labels = false;
  bool wrote_output = false;  // false on ranks other than 0
  double alpha = 0;           // effective
  int rank = 0, world_size = 1;
  int64_t train_samples = 0, val_samples = 0, classes = 0;
  // Scores on the validation split (the training split when there is none).
  double teacher_accuracy = 0, student_accuracy = 0;  // top-1 against labels
  double agreement = 0;                               // student top-1 == teacher top-1
  double kl = 0;                                      // KL(teacher || student) at T = 1
  int64_t teacher_parameters = 0, student_parameters = 0;
  int64_t teacher_bytes = 0, student_bytes = 0;  // parameter bytes
  double parameter_ratio = 0, size_ratio = 0;    // teacher / student
  double teacher_latency_ms = 0, student_latency_ms = 0, latency_ratio = 0;  // batch 1, mean; 0: not measured
  int best_epoch = 0, first_epoch = 1;
  std::vector<distill::EpochStats> epochs;
  double train_seconds = 0, samples_per_second = 0;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

// Checks the option values alone (ranges, required combinations), before any file is read;
// the pipeline calls it when it binds a step, so --dry-run catches what the run would refuse.
void check_options(const DistillOptions& options);

DistillResult distill_model(const DistillOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
