// Pieces of `mlopt quantize` every back end shares (quantize_support.h):
// option checks, data sets, metrics, the budget outcome.
#include "mlopt/quantize/quantize_support.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/quantize/embedding_int8.h"
#include "mlopt/quantize/quality_check.h"

namespace mlopt {

namespace quant_support {

constexpr int64_t kBatchSize = 64;

// --mode qat's training options; --data and --teacher belong to it alone.
static void check_qat_options(const QuantizeOptions& o) {
  if (o.mode != "qat") {
    if (!o.data.path.empty()) fail_usage("--data is the training set of --mode qat (give --calibration DATA for static)");
    if (!o.teacher.empty()) fail_usage("--teacher needs --mode qat (it distils during quantization-aware training)");
    return;
  }
  if (o.data.path.empty()) fail_usage("--mode qat needs --data DATA (the training set: .npz with x,y, or .csv/.csv.gz)");
  if (extension_of(o.model.path) == ".onnx")
    fail_usage("--mode qat trains a TorchScript model: give the .pt/.py model (-o OUT.onnx writes QDQ ONNX)");
  distill::check_train_config(o.train);
  if (o.freeze_bn_after < 0 || o.freeze_bn_after >= o.train.epochs)
    fail_usage("--freeze-bn-after {}: expected 0..{} (fewer than --epochs {})", o.freeze_bn_after, o.train.epochs - 1,
               o.train.epochs);
  if (o.freeze_observers_after < 0) fail_usage("--freeze-observers-after {}: expected 0 or more", o.freeze_observers_after);
}

void check_options(const QuantizeOptions& o) {
  if (o.mode != "dynamic" && o.mode != "static" && o.mode != "qat" && o.mode != "fp16" && o.mode != "bf16")
    fail_usage("--mode '{}': expected dynamic, static, qat, fp16 or bf16", o.mode);
  check_qat_options(o);
  if (o.observer != "minmax" && o.observer != "histogram" && o.observer != "percentile")
    fail_usage("--observer '{}': expected minmax, histogram or percentile", o.observer);
  auto ext = extension_of(o.output);
  if (ext != ".pt" && ext != ".ptl" && ext != ".onnx")
    fail_usage("-o '{}': expected an output path ending in .pt, .ptl or .onnx", o.output);
  if (extension_of(o.model.path) == ".onnx" && ext != ".onnx")
    fail_usage("'{}' is an ONNX model: it quantizes to .onnx only (-o OUT.onnx)", o.model.path);
  if (!o.output_names.empty() && ext != ".onnx")
    fail_usage("--output-names names the outputs of an .onnx file; -o '{}' is not one", o.output);
  if (!o.output_names.empty() && extension_of(o.model.path) == ".onnx")
    fail_usage("--output-names: '{}' is an ONNX model, whose outputs keep their own names", o.model.path);
  if (ext == ".onnx" && o.mode == "bf16")
    fail_usage("--mode bf16 has no ONNX Runtime CPU kernels; use --mode fp16 for .onnx outputs");
  if (ext == ".onnx" && o.min_speedup > 0)
    fail_usage("--min-speedup measures LibTorch kernels (.pt/.ptl); time .onnx outputs with `mlopt profile`");
  if (o.max_accuracy_drop >= 0 && o.eval.empty())
    fail_usage("--max-accuracy-drop needs --eval DATA to measure accuracy");
  if (o.min_speedup > 0 && o.no_latency) fail_usage("--min-speedup needs the latency comparison (drop --no-latency)");
  if (!(o.percentile > 50 && o.percentile <= 100)) fail_usage("--percentile {}: expected (50, 100]", o.percentile);
  if (o.latency_iters < 1) fail_usage("--latency-iters {}: expected at least 1", o.latency_iters);
  if (!(o.latency_seconds > 0)) fail_usage("--latency-time {}: expected a positive number of seconds", o.latency_seconds);
  if (o.calibration_samples < 1) fail_usage("--calibration-samples {}: expected at least 1", o.calibration_samples);
  if (!std::isfinite(o.min_sqnr)) fail_usage("--min-sqnr {}: expected a number of dB (0: off)", o.min_sqnr);
  if (!(o.min_top1 >= 0 && o.min_top1 <= 1)) fail_usage("--min-top1 {}: expected a fraction in [0, 1] (0: off)", o.min_top1);
}

bool matches_any(const std::string& name, const std::vector<std::string>& patterns, std::string* which) {
  for (const auto& p : patterns) {
    // A pattern naming a module also covers everything inside it.
    if (fnmatch(p.c_str(), name.c_str(), 0) == 0 || fnmatch((p + ".*").c_str(), name.c_str(), 0) == 0) {
      if (which) *which = p;
      return true;
    }
  }
  return false;
}

// Input specs: --input, else the archive's metadata (when mlopt wrote it).
std::vector<InputSpec> input_specs(const QuantizeOptions& o) {
  if (!o.inputs.empty()) return parse_input_specs(o.inputs);
  if (extension_of(o.model.path) == ".pt") {
    std::string meta;
    try {
      meta = read_metadata(o.model.path);
    } catch (const Error&) {
    }
    if (!meta.empty()) {
      auto j = nlohmann::json::parse(meta, nullptr, false);
      for (const char* key : {"inputs", "input"}) {
        if (j.is_object() && j.contains(key) && j[key].is_array()) {
          std::vector<std::string> texts;
          for (const auto& e : j[key])
            if (e.is_string()) texts.push_back(e.get<std::string>());
          if (!texts.empty()) return parse_input_specs(texts);
        }
      }
    }
  }
  return {};
}

std::vector<Batch> batches_of(const at::Tensor& x, int64_t limit, const std::vector<InputSpec>& specs) {
  std::vector<Batch> out;
  int64_t n = std::min<int64_t>(x.size(0), limit);
  auto type = specs.size() == 1 ? scalar_type_of(specs[0].dtype) : x.scalar_type();
  for (int64_t i = 0; i < n; i += kBatchSize) out.push_back({x.slice(0, i, std::min(n, i + kBatchSize)).to(type)});
  return out;
}

// The data's per-sample shape must be the spec's (the batch dim aside).
void check_sample_shape(const std::string& what, const at::Tensor& x, const std::vector<InputSpec>& specs) {
  if (specs.size() != 1) {
    if (specs.size() > 1) fail("{}: a data set feeds one input, but the model has {} input specs", what, specs.size());
    return;
  }
  auto shape = specs[0].shape();
  std::vector<int64_t> sample(x.sizes().begin() + 1, x.sizes().end()), expected(shape.begin() + 1, shape.end());
  if (sample != expected)
    fail("{}: samples have shape [{}] but input '{}' expects [{}] per sample (use --reshape)", what,
         fmt::join(sample, "x"), specs[0].name, fmt::join(expected, "x"));
}

// The last non-empty line of a TorchScript error (the actual RuntimeError).
std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of(" \n");
  if (end == std::string::npos) return text;
  size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}

double sqnr_db(const std::vector<at::Tensor>& reference, const std::vector<at::Tensor>& got) {
  double signal = 0, noise = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    auto r = reference[i].to(at::kDouble), g = got[i].to(at::kDouble);
    signal += r.pow(2).sum().item<double>();
    noise += (r - g).pow(2).sum().item<double>();
  }
  if (noise <= 0) return 200.0;
  return 10.0 * std::log10(std::max(signal, 1e-30) / noise);
}

double sqnr_on_changed_outputs(const Outputs& reference, const Outputs& got, int* which) {
  double worst = 200.0;
  *which = -1;
  for (size_t k = 0; k < reference.size() && k < got.size(); ++k) {
    bool finite = true;  // an output that is not finite in float (a -inf mask) has no SQNR
    for (const auto& t : reference[k]) finite = finite && at::isfinite(t).all().item<bool>();
    if (!finite) continue;
    double s = sqnr_db(reference[k], got[k]);
    if (std::isnan(s)) {  // NaN/Inf in that output: nothing is worse
      *which = static_cast<int>(k);
      return s;
    }
    if (s < 200.0 && (*which < 0 || s < worst)) {
      worst = s;
      *which = static_cast<int>(k);
    }
  }
  return worst;
}

// The error int8 storage puts on the layer's weights (symmetric, per channel or per tensor).
WeightError weight_error(const std::vector<at::Tensor>& weights, quant::Granularity granularity,
                         const std::string& mode, bool row_affine) {
  double signal = 0, noise = 0;
  for (const auto& w0 : weights) {
    auto w = w0.detach().to(at::kFloat);
    at::Tensor restored;
    if (mode == "fp16" || mode == "bf16") {
      restored = w.to(mode == "bf16" ? at::kBFloat16 : at::kHalf).to(at::kFloat);
    } else if (row_affine && w.dim() == 2) {
      restored = quant::quantize_embedding_rows(w).dequantize();
    } else {
      restored = quant::int8_round_trip(w, quant::per_channel_weights(w, granularity));
    }
    signal += w.to(at::kDouble).pow(2).sum().item<double>();
    noise += (w - restored).to(at::kDouble).pow(2).sum().item<double>();
  }
  WeightError e;
  e.relative = signal > 0 ? std::sqrt(noise / signal) : 0;
  e.sqnr_db = noise > 0 ? 10 * std::log10(signal / noise) : 200.0;
  return e;
}


// Top-1 accuracy with labels; agreement with the float model's top-1 without.
double accuracy(const Evaluation& e, const std::vector<at::Tensor>& outputs) {
  int64_t correct = 0, total = 0, offset = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].dim() != 2) fail("--eval needs a classifier output [batch, classes]; got {}-d", outputs[i].dim());
    auto pred = outputs[i].argmax(1);
    int64_t n = pred.size(0);
    auto truth = e.labelled ? e.labels.slice(0, offset, offset + n) : e.float_outputs[i].argmax(1);
    correct += pred.eq(truth).sum().item<int64_t>();
    total += n;
    offset += n;
  }
  return total ? 100.0 * static_cast<double>(correct) / static_cast<double>(total) : 0;
}

std::string candidate_path(const std::string& output) {
  auto ext = extension_of(output);
  return output.substr(0, output.size() - ext.size()) + ".best-candidate" + ext;
}

std::string apply_budget_outcome(QuantizeResult& result, const std::set<std::string>& fallback, double budget,
                                 const std::string& output, const std::string& unit) {
  for (auto& l : result.layers) {
    if (!fallback.count(l.name)) continue;
    l.quantized = false;
    l.float_reason = fmt::format("accuracy budget: costs {:.2f} points alone", l.accuracy_drop);
  }
  result.accuracy_fits = result.accuracy_before - result.accuracy_after <= budget;
  if (result.accuracy_fits) return output;
  const std::string candidate = candidate_path(output);
  result.candidate_output = candidate;
  result.exit_code = kExitCheckFailed;
  result.warnings.push_back(fmt::format(
      "accuracy drop {:.2f} points is over the budget of {:.2f} even with {} {}(s) back in float; "
      "the best candidate is {} (not {})",
      result.accuracy_before - result.accuracy_after, budget, fallback.size(), unit, candidate, output));
  return candidate;
}

// Data: calibration (static), evaluation, and the reference inputs for SQNR / latency.
QuantizeData load_quantize_data(const QuantizeOptions& options, const std::vector<InputSpec>& specs, uint64_t seed,
                                std::vector<std::string>& warnings) {
  QuantizeData out;
  auto& calibration = out.calibration;
  auto& evaluation = out.evaluation;
  if (!options.calibration.empty()) {
    auto d = options.data;
    d.path = options.calibration;
    auto data = load_dataset(d);
    auto x = data.x_train.size(0) > 0 ? data.x_train : data.x;
    check_sample_shape(fmt::format("calibration data '{}'", options.calibration), x, specs);
    check_finite_data(fmt::format("calibration data '{}'", options.calibration), x);
    calibration = batches_of(x, options.calibration_samples, specs);
  }
  if (!options.eval.empty()) {
    auto d = options.data;
    d.path = options.eval;
    auto data = load_dataset(d);
    bool use_val = data.x_val.size(0) > 0;
    auto x = use_val ? data.x_val : data.x;
    check_sample_shape(fmt::format("eval data '{}'", options.eval), x, specs);
    check_finite_data(fmt::format("eval data '{}'", options.eval), x);
    evaluation.batches = batches_of(x, x.size(0), specs);
    evaluation.labelled = data.has_labels();
    if (evaluation.labelled) evaluation.labels = use_val ? data.y_val : data.y;
  }
  if (specs.empty() && calibration.empty() && evaluation.batches.empty())
    fail("no inputs to run the model on: give --input NAME:SHAPE[:DTYPE], --calibration DATA or --eval DATA");
  if (calibration.empty() && options.mode == "static") {
    if (specs.empty()) {
      calibration = evaluation.batches;
      warnings.push_back("calibrating on the --eval data; give --calibration DATA to keep them apart");
    } else {
      warnings.push_back(
          "calibrating on random inputs from the input spec; real data (--calibration DATA) gives better scales");
      for (int i = 0; i < 4; ++i) calibration.push_back(random_inputs(specs, seed + i));
    }
  }
  std::vector<Batch> reference = evaluation.batches;
  std::string reference_what = fmt::format("the eval data '{}'", options.eval);
  if (reference.empty()) {
    reference = calibration;
    reference_what = options.calibration.empty() ? "random inputs from the input specs"
                                                 : fmt::format("the calibration data '{}'", options.calibration);
  }
  if (reference.empty()) reference = {random_inputs(specs, seed)};
  out.reference = reference;
  out.reference_what = reference_what;
  return out;
}

}  // namespace quant_support

}  // namespace mlopt
