#pragma once
// `mlopt quantize`: int8 (dynamic, static, quantization-aware training) and
// half-precision (fp16, bf16) artifacts with a report of what was lost where.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlopt/core/dataset.h"
#include "mlopt/core/options.h"
#include "mlopt/distill/train_config.h"
#include "mlopt/script/model_source.h"

namespace mlopt {

// --mode qat's training: 3 epochs of Adam at a small learning rate on a cosine
// schedule (the weights start trained: they only have to settle on the int8 grid).
inline distill::TrainConfig qat_training_defaults() {
  distill::TrainConfig c;
  c.epochs = 3;
  c.lr = 1e-4;
  c.schedule = "cosine";
  c.keep_best = false;  // the validation split is often the --eval data, which must not pick the weights
  return c;
}

struct QuantizeOptions {
  ModelSource model;
  std::string mode = "dynamic";      // dynamic | static | qat | fp16 | bf16
  std::string engine = "auto";       // auto | onednn | qnnpack
  std::vector<std::string> inputs;   // input specs (random calibration data, latency)
  std::string calibration;           // data set for static calibration
  int64_t calibration_samples = 512; // at most this many calibration samples
  DataOptions data;                  // how calibration/eval data sets are read
  // int8 weight scales (weight_granularity.h): static per channel, dynamic
  // per channel where one scale per tensor would lose much (an outlier weight).
  bool per_channel = false;          // every layer per channel
  bool per_tensor = false;           // every layer per tensor
  std::string observer = "histogram";  // minmax | histogram | percentile
  double percentile = 99.99;
  std::vector<std::string> skip;     // module paths (glob) kept in float
  std::string eval;                  // data set for accuracy before/after
  double max_accuracy_drop = -1;     // points; < 0: no budget
  double min_speedup = 0;            // > 0: int8 must be this much faster than float (exit 3)
  double min_sqnr = 15;              // dB: output SQNR vs float under this is exit 3 (<= 0: off)
  double min_top1 = 0.9;             // classifier outputs: top-1 agreement with float under this is exit 3
  int64_t latency_batch = 0;         // batch for the latency comparison (0: the input spec's)
  int64_t latency_iters = 20;
  double latency_seconds = 60;       // the comparison's budget: a slow model gets fewer timed runs
  bool no_latency = false;
  bool fixed_batch = false;  // the int8 model serves one batch size: no check at another
  // A failed quality check measures layer groups alone (the blame) for at most
  // this long, the largest weight errors first (<= 0: every group).
  double blame_seconds = 60;
  // --mode qat (qat.h): fine-tuning on --data with fake quantization, then the static int8 conversion.
  std::string teacher;               // knowledge distillation from this model while training
  distill::TrainConfig train = qat_training_defaults();  // seed, label and checkpoints per phase: qat.cpp
  int freeze_bn_after = 0;           // epochs with live BatchNorm statistics before they are folded
  int freeze_observers_after = 0;    // epochs with moving activation ranges (0: the calibrated ranges stay)
  std::vector<std::string> output_names;  // .onnx from .pt/.py: the ONNX outputs' names (as export-onnx)
  std::string output;

  template <class V>
  void visit(V& v) {
    v.positional("model", model.path, "Model to quantize (.pt TorchScript archive, .py source, or float .onnx)");
    model.visit_python_fields(v);
    v.choice("mode", mode, {"dynamic", "static", "qat", "fp16", "bf16"},
             "Quantization mode (qat: quantization-aware training on --data, then static int8)");
    v.choice("engine", engine, {"auto", "onednn", "qnnpack"},
             "Quantized engine (auto: onednn on x86, qnnpack for .ptl)");
    v.option("input", inputs, "Input spec NAME:SHAPE[:DTYPE[:LOW..HIGH]] (repeatable)");
    v.option("calibration", calibration, "Calibration data set (.npz with x[,y], or .csv/.csv.gz)");
    v.option("calibration-samples", calibration_samples, "Use at most this many calibration samples");
    v.option("data", data.path, "Training data set for --mode qat (.npz with x,y, or .csv/.csv.gz)");
    data.visit(v);
    v.flag("per-channel", per_channel,
           "Per-channel int8 weights for every layer (default: static always, dynamic where one scale per tensor "
           "loses much)");
    v.flag("per-tensor", per_tensor, "Per-tensor int8 weights for every layer");
    v.choice("observer", observer, {"minmax", "histogram", "percentile"}, "How activation ranges are chosen (static)");
    v.option("percentile", percentile, "Percentile kept by --observer percentile");
    v.option("skip", skip, "Keep modules matching this path pattern in float (glob, repeatable)");
    v.option("eval", eval, "Data set to measure accuracy (top-1 with labels, agreement without) before/after");
    v.option("max-accuracy-drop", max_accuracy_drop, "Budget in points; sensitive layers go back to float to fit");
    v.option("min-speedup", min_speedup, "Fail (exit 3) when int8 is not at least this much faster than float");
    v.option("min-sqnr", min_sqnr,
             "Fail (exit 3, nothing written) when the output SQNR vs float is under DB (0: off; not in qat mode, "
             "whose training changes the outputs)");
    v.option("min-top1", min_top1,
             "Fail (exit 3, nothing written) when a classifier's top-1 agrees with float on fewer than this fraction "
             "of the samples whose float top-1 is clear, not a near tie (0: off)");
    v.option("latency-batch", latency_batch, "Batch size for the latency comparison (default: the input spec's)");
    v.option("latency-iters", latency_iters, "Timed iterations per model for the latency comparison");
    v.option("latency-time", latency_seconds,
             "Time budget of the latency comparison in seconds: a model whose run takes longer gets fewer timed "
             "iterations than --latency-iters (at least one per model in each interleaved round)");
    v.flag("no-latency", no_latency, "Skip the latency comparison");
    v.flag("fixed-batch", fixed_batch,
           "The int8 model will only run at the input spec's batch size: skip the check at another batch size");
    v.option("blame-time", blame_seconds,
             "Measure layers alone (each layer's output SQNR, a failed quality check's blame) for at most SECONDS, "
             "the largest weight errors first (0: all of them)");
    v.option("teacher", teacher, "--mode qat: distil from this model (.pt/.py) while training");
    v.option("epochs", train.epochs, "--mode qat: training epochs");
    v.option("batch-size", train.batch_size, "--mode qat: samples per step");
    v.option("lr", train.lr, "--mode qat: learning rate");
    v.choice("optimizer", train.optimizer, {"adam", "adamw", "sgd"}, "--mode qat: optimizer (sgd uses momentum 0.9)");
    v.choice("schedule", train.schedule, {"const", "cosine", "step"}, "--mode qat: learning-rate schedule over the epochs");
    v.option("weight-decay", train.weight_decay, "--mode qat: weight decay");
    v.option("alpha", train.alpha, "--mode qat with --teacher: weight of the distillation term (0: labels only)");
    v.option("temperature", train.temperature, "--mode qat with --teacher: softmax temperature of the distillation term");
    v.option("freeze-bn-after", freeze_bn_after,
             "--mode qat: epochs that update BatchNorm statistics before they are frozen and folded (0: folded first)");
    v.option("freeze-observers-after", freeze_observers_after,
             "--mode qat: epochs whose moving min/max changes the activation ranges before they are frozen "
             "(0: the calibrated ranges stay)");
    v.option("checkpoint", train.checkpoint_dir, "--mode qat: folder for a training checkpoint after every epoch");
    v.flag("resume", train.resume, "--mode qat: continue the training from the checkpoint in --checkpoint");
    v.option("output-names", output_names,
             "-o OUT.onnx from a .pt/.py model: names of the ONNX outputs (repeatable, in order; default: a returned "
             "dict's keys, else output, output_1, ...; an .onnx model keeps its own)");
    v.output("output", output, "Output artifact: .pt, .ptl or .onnx (QDQ static int8, MatMulInteger dynamic int8, fp16)");
  }
};

// One quantizable layer (a module holding a conv/linear/rnn weight).
struct QuantizedLayer {
  std::string name;          // module path, e.g. "conv1" or "blocks.0.ff1"
  std::string kind;          // conv1d/2d/3d | conv_transpose1d/2d/3d | linear | lstm | gru | embedding
  bool quantized = false;
  std::string float_reason;  // why it stayed in float ("--skip conv1", "accuracy: costs 1.2 points", ...)
  double weight_rel_error = 0;  // ||W - Q(W)|| / ||W||
  double weight_sqnr_db = 0;
  std::string weight_scales;    // int8 layers: "per-channel" | "per-tensor" | "per-row" (embedding tables)
  double output_sqnr_db = 0;    // model output SQNR with only this layer quantized (0: not measured)
  // Several outputs: the one that figure is measured on (the worst of those the
  // layer changes, i.e. feeds; "" when it changes none, or the model has one).
  std::string output_sqnr_on;
  double accuracy_drop = 0;     // accuracy points lost with only this layer quantized (sensitivity runs)
  bool sensitivity_measured = false;
};

// One epoch of --mode qat's training (both phases, counted over the whole run).
struct QatEpoch {
  std::string phase;  // "batch-norm" (statistics live, --freeze-bn-after) | "folded"
  int epoch = 0;      // 1-based over the whole run
  double lr = 0, loss = 0, train_accuracy = 0, val_accuracy = 0;  // accuracies in percent
  bool resumed = false;  // restored from --checkpoint, not trained by this run
};

struct QuantizeResult {
  std::string model, output, candidate_output, mode, engine, format;
  int64_t size_before = 0, size_after = 0;
  double size_ratio = 0;
  std::vector<QuantizedLayer> layers;
  std::vector<std::pair<std::string, int64_t>> quantized_ops;  // op kind -> count in the artifact's graph
  double output_sqnr_db = 0;     // whole model, on the calibration/eval inputs (NaN: NaN/Inf in the output)
  // Several outputs: each one's SQNR vs float, by name ("output 2" when the format keeps none);
  // output_sqnr_db and the floors are the first output's.
  std::vector<std::pair<std::string, double>> output_sqnr_by_output;
  // The floors (--min-sqnr, --min-top1) and what they were checked against.
  double min_sqnr_db = 0, min_top1 = 0;
  bool has_top1_agreement = false;  // classifier outputs [batch, classes] on enough samples
  double top1_agreement = 0;        // fraction of reference samples whose top-1 matches float's
  int64_t top1_samples = 0;
  // The samples --min-top1 reads: those whose float top-1 leads by more than
  // noise at the --min-sqnr floor could make up (quality_check.h).
  int64_t top1_clear_samples = 0;
  double top1_clear_agreement = 0;
  // A detector (detection_match.h): output_sqnr_db is of the matched detections' boxes and
  // scores; --min-top1 reads the detection agreement (score-weighted F1 against float).
  bool has_detection_agreement = false;
  double detection_agreement = 0;
  int64_t float_detections = 0, quantized_detections = 0, matched_detections = 0, detections_at_cut = 0;
  int64_t nonfinite_outputs = 0;    // NaN/Inf values in the quantized outputs
  bool quality_ok = true;           // false: exit 3, nothing written
  std::string quality_failure;      // what failed, with the layers to blame
  bool has_accuracy = false;
  std::string accuracy_metric;   // "top1" | "agreement"
  double accuracy_before = 0, accuracy_after = 0;  // percent
  double agreement = 0;          // percent of eval samples whose top-1 matches the float model's
  int64_t eval_samples = 0;
  bool accuracy_fits = true;
  bool has_latency = false;
  int64_t latency_batch = 0;
  int latency_threads = 0;               // the threads both sides were timed on
  int latency_runs = 0;                  // timed runs of each side, over all rounds
  bool latency_threads_lowered = false;  // 1 thread for QNNPACK (see latency_caveat())
  double latency_float_ms = 0, latency_quant_ms = 0, speedup = 0;  // medians of interleaved rounds
  double latency_noise = 0;       // spread of the per-round ratios
  std::string latency_verdict;    // faster | slower | same | inconclusive (profile/ab_timing.h)
  // --mode qat: the fine-tuning (accuracy of the fake-quantized model on the training data's validation split).
  bool has_training = false;
  int train_epochs = 0;
  double train_seconds = 0, fake_quant_accuracy = 0;  // percent, after the last epoch
  bool distillation = false;
  double distillation_alpha = 0;      // weight of the teacher term (0 without --teacher)
  int resumed_epochs = 0;             // epochs restored from --checkpoint by --resume
  std::vector<QatEpoch> training_history;
  std::vector<std::string> warnings;
  int exit_code = 0;  // 0, 3 when the accuracy budget, --min-sqnr, --min-top1 or --min-speedup is not met,
                    // 4 when --min-speedup is inconclusive (a noisy measurement)

  nlohmann::json to_json() const;
  std::string to_text() const;
  // Why the latency figure does not predict the target device ("" when it does).
  std::string latency_caveat() const;
};

// Usage errors (exit 2) in the options alone, before any file is read: what
// `mlopt run --dry-run` checks for every quantize step.
void check_options(const QuantizeOptions& options);

QuantizeResult quantize(const QuantizeOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
