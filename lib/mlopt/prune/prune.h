#pragma once
// `mlopt prune`: unstructured masks (per layer or global), Ln-structured
// channel masks, and physical channel removal driven by a dependency graph
// over the model's TorchScript graph. No LibTorch includes here.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlopt/core/dataset.h"
#include "mlopt/core/options.h"
#include "mlopt/distill/train_config.h"
#include "mlopt/script/model_source.h"

namespace mlopt {

// Recovery training after pruning (the unpruned model is the teacher): 3 epochs
// of Adam, ending with the last epoch's weights, not the best on the validation
// split: --eval usually scores that same split, and choosing on it would flatter the result.
inline distill::TrainConfig recovery_training_defaults() {
  distill::TrainConfig c;
  c.epochs = 3;
  c.keep_best = false;
  c.label = "finetune epoch";
  return c;
}

struct PruneOptions {
  ModelSource model;
  std::string method = "l1-unstructured";  // l1-unstructured|global-unstructured|ln-structured|channel
  double amount = 0.5;                     // fraction in [0, 1) of weights / channels to remove
  std::vector<std::string> layers;         // glob patterns over module paths ("layer1.*", "*.conv2"); empty: all
  int norm = 1;                            // Ln norm ranking channels (ln-structured, channel)
  double head_amount = -1;                 // fraction of attention heads to remove (channel); < 0: --amount
  std::vector<std::string> inputs;         // input specs for shape analysis and the before/after check
  std::string finetune;                    // data set for recovery training (teacher: the unpruned model)
  distill::TrainConfig train = recovery_training_defaults();  // seed is set by prune_model
  std::string eval;                        // data set on which accuracy / agreement is measured
  DataOptions data;                        // how --finetune / --eval files are read
  std::string output;                      // .pt | .ptl | .onnx

  template <class V>
  void visit(V& v) {
    v.positional("model", model.path, "Model to prune (.pt or .py)");
    model.visit_python_fields(v);
    v.choice("method", method, {"l1-unstructured", "global-unstructured", "ln-structured", "channel"},
             "Pruning method");
    v.option("amount", amount, "Fraction of weights (unstructured) or channels (structured) to remove, in [0, 1)");
    v.option("layers", layers, "Glob over module paths of the layers to prune (repeatable; default: all conv/linear)");
    v.option("norm", norm, "Norm ranking channels: 1 or 2 (ln-structured, channel)");
    v.option("head-amount", head_amount,
             "Fraction of the heads of each nn.MultiheadAttention to remove, in [0, 1) (channel; default: --amount)");
    v.option("input", inputs, "Input spec NAME:SHAPE[:DTYPE] for shape analysis and the check (repeatable)");
    v.option("finetune", finetune, "Data set (.csv/.csv.gz/.npz) for recovery training after pruning");
    v.option("epochs", train.epochs, "Fine-tuning epochs");
    v.option("lr", train.lr, "Fine-tuning learning rate (Adam)");
    v.option("batch-size", train.batch_size, "Fine-tuning batch size");
    v.option("eval", eval, "Data set on which accuracy before/after is measured");
    data.visit(v);
    v.output("output", output, "Pruned artifact: .pt, .ptl or .onnx");
  }
};

// One pruned layer (conv/linear weight, or for channel pruning also the
// BatchNorm / depthwise layers whose shapes changed).
struct PrunedLayer {
  std::string name;                  // module path, e.g. "layers.0.conv1"
  std::string kind;                  // conv | linear | batch_norm | depthwise-conv
  std::vector<int64_t> shape_before, shape_after;  // weight shape
  int64_t zeros = 0;                 // zero weights after pruning (masks)
  int64_t numel = 0;
  double sparsity = 0;               // zeros / numel of the weight after pruning
  double norm_removed = 0;           // share of the weight's Ln norm removed (0..1)
};

// The heads channel pruning kept in one nn.MultiheadAttention.
struct PrunedAttention {
  std::string name;  // module path, e.g. "encoder.layers.0.self_attn"
  int64_t heads_before = 0, heads_after = 0, head_dim = 0;
};

// A coupled set of channels that channel pruning left alone, and why.
struct SkippedGroup {
  std::vector<std::string> layers;
  std::string reason;
};

struct PruneResult {
  std::string model, output, method;
  double amount = 0;
  std::vector<PrunedLayer> layers;
  std::vector<PrunedAttention> attention;  // channel pruning: heads per attention module
  std::vector<SkippedGroup> skipped;
  int64_t params_before = 0, params_after = 0;
  int64_t nonzero_before = 0, nonzero_after = 0;  // non-zero parameters
  int64_t file_size_before = 0, file_size_after = 0;
  double flops_before = -1, flops_after = -1;     // -1: not measured
  double latency_ms_before = -1, latency_ms_after = -1;  // medians of interleaved rounds (profile/ab_timing.h)
  double latency_noise = 0;      // spread of the per-round ratios
  std::string latency_verdict;   // faster | slower | same | inconclusive (too noisy to say)
  double max_abs_diff = -1;       // unstructured: artifact vs masked model; channel: -1
  bool outputs_same_shape = true;  // pruned model's output shapes equal the original's
  bool artifact_verified = false;  // the written artifact reproduces the pruned model
  double artifact_max_abs_diff = 0;
  // Accuracy (labelled data) or top-1 agreement with the original (unlabelled), before/after.
  std::string eval_metric;  // "accuracy" | "agreement" | "" (no --eval)
  double eval_before = -1, eval_after = -1;
  int finetune_epochs = 0;
  std::vector<double> finetune_losses;  // mean loss per epoch

  nlohmann::json to_json() const;
  std::string to_text() const;
};

// Checks the option values alone (ranges, required combinations), before any file is read;
// the pipeline calls it when it binds a step, so --dry-run catches what the run would refuse.
void check_options(const PruneOptions& options);

PruneResult prune(const PruneOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
