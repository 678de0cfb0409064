// `mlopt quantize`: builds the artifact, measures what it costs (size,
// per-layer weight error and output SQNR, accuracy, latency) and, under an
// accuracy budget, moves the most sensitive layers back to float.
#include "mlopt/quantize/quantize.h"

#include <fnmatch.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/core/version.h"
#include "mlopt/profile/latency.h"
#include "mlopt/quantize/embedding_int8.h"
#include "mlopt/quantize/engine.h"
#include "mlopt/quantize/half_precision.h"
#include "mlopt/quantize/int8_passes.h"
#include "mlopt/quantize/patterns.h"
#include "mlopt/quantize/quality_check.h"
#include "mlopt/quantize/quantize_support.h"

namespace mlopt {

namespace quant_support {

using quant::Layer;

constexpr int64_t kBatchSize = 64;

void check_options(const QuantizeOptions& o) {
  if (o.mode != "dynamic" && o.mode != "static" && o.mode != "fp16" && o.mode != "bf16")
    fail_usage("--mode '{}': expected dynamic, static, fp16 or bf16", o.mode);
  if (o.observer != "minmax" && o.observer != "histogram" && o.observer != "percentile")
    fail_usage("--observer '{}': expected minmax, histogram or percentile", o.observer);
  auto ext = extension_of(o.output);
  if (ext != ".pt" && ext != ".ptl" && ext != ".onnx")
    fail_usage("-o '{}': expected an output path ending in .pt, .ptl or .onnx", o.output);
  if (extension_of(o.model.path) == ".onnx" && ext != ".onnx")
    fail_usage("'{}' is an ONNX model: it quantizes to .onnx only (-o OUT.onnx)", o.model.path);
  if (ext == ".onnx" && o.mode == "bf16")
    fail_usage("--mode bf16 has no ONNX Runtime CPU kernels; use --mode fp16 for .onnx outputs");
  if (ext == ".onnx" && o.min_speedup > 0)
    fail_usage("--min-speedup measures LibTorch kernels (.pt/.ptl); time .onnx outputs with `mlopt profile`");
  if (o.max_accuracy_drop >= 0 && o.eval.empty())
    fail_usage("--max-accuracy-drop needs --eval DATA to measure accuracy");
  if (o.min_speedup > 0 && o.no_latency) fail_usage("--min-speedup needs the latency comparison (drop --no-latency)");
  if (!(o.percentile > 50 && o.percentile <= 100)) fail_usage("--percentile {}: expected (50, 100]", o.percentile);
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

std::vector<at::Tensor> run_all(torch::jit::Module& m, const std::vector<Batch>& batches, const std::string& what) {
  std::vector<at::Tensor> outs;
  for (const auto& b : batches) {
    std::vector<at::Tensor> o;
    try {
      o = run_module(m, b);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(fmt::format("the model cannot run on {} (a batch of shape [{}], {}): {}", what,
                              fmt::join(b[0].sizes(), "x"), dtype_name(b[0].scalar_type()), last_line(e.what())),
                  kExitError, e.what());
    }
    if (o.empty()) fail("the model returned no tensor");
    outs.push_back(o[0].to(at::kFloat));
  }
  return outs;
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

// The error int8 storage puts on the layer's weights (symmetric, per channel or per tensor).
WeightError weight_error(const std::vector<at::Tensor>& weights, bool per_channel, const std::string& mode,
                         bool row_affine) {
  double signal = 0, noise = 0;
  for (const auto& w0 : weights) {
    auto w = w0.detach().to(at::kFloat);
    at::Tensor restored;
    if (mode == "fp16" || mode == "bf16") {
      restored = w.to(mode == "bf16" ? at::kBFloat16 : at::kHalf).to(at::kFloat);
    } else if (row_affine && w.dim() == 2) {
      restored = quant::quantize_embedding_rows(w).dequantize();
    } else {
      auto rows = w.reshape({w.size(0), -1});
      auto amax = per_channel ? rows.abs().amax({1}, true) : rows.abs().max().reshape({1, 1});
      auto scale = (amax / 127.0).clamp_min(1e-8);
      restored = ((rows / scale).round().clamp(-128, 127) * scale).reshape(w.sizes());
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

std::string metadata_json(const QuantizeOptions& o, const std::string& engine, const std::vector<InputSpec>& specs,
                          const std::vector<std::string>& float_layers) {
  nlohmann::json j{{"producer", "mlopt " + mlopt_version() + " quantize"},
                   {"mode", o.mode},
                   {"engine", engine},
                   {"float_layers", float_layers}};
  std::vector<std::string> inputs;
  for (const auto& s : specs) inputs.push_back(s.to_string());
  j["inputs"] = inputs;
  return j.dump();
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

void check_options(const QuantizeOptions& options) { quant_support::check_options(options); }

using namespace quant_support;

QuantizeResult quantize(const QuantizeOptions& options, const GlobalOptions& globals) {
  quant_support::check_options(options);
  if (extension_of(options.output) == ".onnx") return quantize_to_onnx(options, globals);
  QuantizeResult result;
  result.model = options.model.path;
  result.mode = options.mode;
  bool int8 = options.mode == "dynamic" || options.mode == "static";
  result.engine = int8 ? quant::resolve_engine(options.engine, options.output) : "none";
  std::optional<quant::EngineGuard> engine_guard;
  if (int8) engine_guard.emplace(result.engine);

  auto source = options.model;
  source.seed = globals.seed;
  auto model = load_model(source);
  model.eval();
  auto specs = input_specs(options);

  // Which layers the mode can quantize, and which the user keeps in float.
  auto layers = quant::find_layers(model);
  std::set<std::string> user_float;
  for (const auto& p : options.skip) {
    bool used = false;
    for (const auto& l : layers) used |= matches_any(l.name, {p});
    if (!used) result.warnings.push_back(fmt::format("--skip '{}' matches no quantizable layer", p));
  }
  bool per_channel = options.mode == "static" ? !options.per_tensor : options.per_channel;
  // nn.MultiheadAttention runs its projections inside one fused attention
  // kernel; the graph-mode passes cannot quantize them (nor re-type its out_proj).
  std::vector<std::string> attention_modules;
  for (const auto& m : model.named_modules())
    if (m.value.hasattr("in_proj_weight")) attention_modules.push_back(m.name);
  auto inside_attention = [&](const std::string& name) {
    for (const auto& a : attention_modules)
      if (name.rfind(a + ".", 0) == 0) return true;
    return false;
  };
  std::vector<std::string> candidates;  // layers the mode may quantize
  for (const auto& l : layers) {
    QuantizedLayer q;
    q.name = l.name.empty() ? "(model)" : l.name;
    q.kind = l.pattern->kind;
    bool layer_per_channel = per_channel && q.kind != "lstm" && q.kind != "gru" && !l.pattern->per_tensor_only;
    auto e = weight_error(l.pattern->weights(l.module), layer_per_channel, options.mode, l.pattern->row_affine);
    q.weight_rel_error = e.relative;
    q.weight_sqnr_db = e.sqnr_db;
    std::string which;
    if (!quant::supported_in_mode(*l.pattern, options.mode)) {
      bool dynamic_has_it = !l.pattern->dynamic_kernel.empty();
      q.float_reason = options.mode == "static"
                           ? fmt::format("no static int8 kernel for {}{}", q.kind,
                                         dynamic_has_it ? " (use --mode dynamic)" : "")
                           : fmt::format("no dynamic int8 kernel for {}", q.kind);
    } else if (int8 && inside_attention(l.name)) {
      q.float_reason = "inside MultiheadAttention (its fused kernel has no int8 form)";
      user_float.insert(l.name);
    } else if (matches_any(l.name, options.skip, &which)) {
      q.float_reason = "--skip " + which;
      user_float.insert(l.name);
    } else {
      q.quantized = true;
      candidates.push_back(l.name);
    }
    result.layers.push_back(q);
  }
  // Modules of one TorchScript class share their methods, and the graph-mode
  // passes must treat them alike: a layer kept in float keeps its class-mates
  // in float too, and sensitivity is measured per class.
  std::map<std::string, std::string> class_of;
  for (const auto& l : layers) class_of[l.name] = l.module.type()->name()->qualifiedName();
  auto with_class_mates = [&](const std::set<std::string>& names) {
    std::set<std::string> classes, out = names;
    for (const auto& n : names) classes.insert(class_of[n]);
    for (const auto& l : layers)
      if (classes.count(class_of[l.name])) out.insert(l.name);
    return out;
  };
  {
    auto expanded = with_class_mates(user_float);
    for (auto& q : result.layers) {
      if (!q.quantized || !expanded.count(q.name)) continue;
      q.quantized = false;
      q.float_reason = "shares its TorchScript class with a layer kept in float";
      candidates.erase(std::remove(candidates.begin(), candidates.end(), q.name), candidates.end());
    }
    user_float = expanded;
  }
  std::vector<std::vector<std::string>> groups;  // candidates by class, in module order
  for (const auto& name : candidates) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return class_of[g[0]] == class_of[name]; });
    if (it == groups.end()) groups.push_back({name}); else it->push_back(name);
  }
  if (candidates.empty()) {
    if (layers.empty())
      fail("'{}' has nothing to quantize: no Conv2d, Linear, LSTM, GRU or Embedding layers", options.model.path);
    fail("'{}' has nothing to quantize in {} mode: {} layer(s), none with a {} kernel or all skipped",
         options.model.path, options.mode, layers.size(), options.mode);
  }

  auto data_sets = load_quantize_data(options, specs, globals.seed, result.warnings);
  auto& calibration = data_sets.calibration;
  auto& evaluation = data_sets.evaluation;
  auto& reference = data_sets.reference;
  const auto& reference_what = data_sets.reference_what;
  if (!calibration.empty() && !options.calibration.empty())
    run_all(model, {calibration.front()}, fmt::format("the calibration data '{}'", options.calibration));
  auto float_reference = run_all(model, reference, reference_what);
  check_finite_outputs(float_reference, reference_what);
  if (!evaluation.batches.empty()) evaluation.float_outputs = float_reference;

  auto run_calibration = [&](torch::jit::Module& prepared) {
    for (const auto& b : calibration) {
      std::vector<c10::IValue> args(b.begin(), b.end());
      torch::NoGradGuard no_grad;
      prepared.forward(args);
    }
  };
  // Builds the artifact with `float_layers` (and the user's skips) left in float.
  auto build = [&](const std::set<std::string>& float_layers) -> torch::jit::Module {
    if (!int8) return quant::store_in_half(model, options.mode).module;
    quant::Int8Plan plan;
    plan.per_channel = per_channel;
    for (const auto& l : layers)
      if (l.pattern->per_tensor_only && !l.name.empty()) plan.per_tensor_modules.insert(l.name);
    if (!calibration.empty()) plan.fold_check_inputs = calibration.front();
    plan.float_modules = with_class_mates(float_layers);
    plan.float_modules.insert(user_float.begin(), user_float.end());
    if (options.mode == "static")
      return quant::quantize_static(model, plan, options.observer, options.percentile, run_calibration);
    return quant::quantize_dynamic(model, plan);
  };
  auto evaluate = [&](torch::jit::Module& m) { return accuracy(evaluation, run_all(m, evaluation.batches, reference_what)); };

  auto quantized = build({});
  auto outputs = run_all(quantized, reference, reference_what);
  result.output_sqnr_db = sqnr_db(float_reference, outputs);
  double budget = options.max_accuracy_drop;
  if (!evaluation.batches.empty()) {
    result.has_accuracy = true;
    result.accuracy_metric = evaluation.labelled ? "top1" : "agreement";
    result.eval_samples = 0;
    for (const auto& b : evaluation.batches) result.eval_samples += b[0].size(0);
    result.accuracy_before = accuracy(evaluation, float_reference);
    result.accuracy_after = accuracy(evaluation, outputs);
  }
  auto agreement = [&](const std::vector<at::Tensor>& out) {
    Evaluation e = evaluation;
    e.labelled = false;
    return accuracy(e, out);
  };

  // Per-layer sensitivity: each layer quantized alone (output SQNR, accuracy).
  bool over_budget = budget >= 0 && result.accuracy_before - result.accuracy_after > budget;
  bool measure_layers = int8 && groups.size() > 1 && (groups.size() <= 32 || over_budget);
  std::map<std::string, double> cost_alone;  // by the group's first layer
  auto group_key = [](const std::vector<std::string>& g) { return g.front(); };
  auto measure_alone = [&] {
    for (const auto& group : groups) {
      std::set<std::string> others;
      for (const auto& n : candidates)
        if (std::find(group.begin(), group.end(), n) == group.end()) others.insert(n);
      auto alone = build(others);
      auto alone_out = run_all(alone, reference, reference_what);
      double sqnr = sqnr_db(float_reference, alone_out);
      double drop = result.has_accuracy ? result.accuracy_before - accuracy(evaluation, alone_out) : 0;
      for (auto& l : result.layers) {
        if (std::find(group.begin(), group.end(), l.name) == group.end()) continue;
        l.output_sqnr_db = sqnr;
        l.accuracy_drop = drop;
        l.sensitivity_measured = result.has_accuracy;
      }
      // Sort key: accuracy cost first, then noise (low SQNR = sensitive).
      cost_alone[group_key(group)] = drop * 1000.0 - sqnr;
    }
  };
  if (measure_layers) measure_alone();

  // Under a budget: the most sensitive layers go back to float until it fits.
  std::string write_path = options.output;
  if (over_budget) {
    auto order = groups;
    std::stable_sort(order.begin(), order.end(),
                     [&](const auto& a, const auto& b) { return cost_alone[group_key(a)] > cost_alone[group_key(b)]; });
    std::set<std::string> fallback;
    auto best_module = quantized;
    double best_accuracy = result.accuracy_after;
    std::set<std::string> best_fallback;
    for (size_t k = 0; k + 1 < order.size(); ++k) {  // at least one layer stays int8
      fallback.insert(order[k].begin(), order[k].end());
      auto m = build(fallback);
      double acc = evaluate(m);
      log::info("quantize: {} layer(s) back in float: {:.2f}% ({})", fallback.size(), acc, options.eval);
      if (acc > best_accuracy) {
        best_accuracy = acc;
        best_module = m;
        best_fallback = fallback;
      }
      if (result.accuracy_before - acc <= budget) break;
    }
    quantized = best_module;
    result.accuracy_after = best_accuracy;
    outputs = run_all(quantized, reference, reference_what);
    result.output_sqnr_db = sqnr_db(float_reference, outputs);
    write_path = apply_budget_outcome(result, best_fallback, budget, options.output, "layer");
  }

  if (result.has_accuracy) result.agreement = agreement(outputs);
  result.quantized_ops = quant::quantized_op_counts(quantized);
  if (int8 && result.quantized_ops.empty())
    fail("quantizing '{}' produced no quantized kernels (check --skip)", options.model.path);

  // A badly wrong artifact is exit 3 with the layers to blame, and is not written.
  auto quality = measure_quality(float_reference, outputs);
  if (!quality_passes(options, quality) && int8 && groups.size() > 1 && !measure_layers) measure_alone();
  if (!apply_quality_floors(result, options, quality)) {
    result.candidate_output.clear();
    for (const auto& w : result.warnings) log::warn("{}", w);
    return result;
  }

  // Latency, float vs quantized, on the same inputs.
  if (!options.no_latency) {
    Batch inputs;
    if (!specs.empty()) {
      auto timed_specs = specs;
      if (options.latency_batch > 0)
        for (auto& s : timed_specs)
          if (!s.dims.empty()) s.dims[0].size = options.latency_batch;
      inputs = random_inputs(timed_specs, globals.seed);
    } else {
      inputs = reference.front();
      if (options.latency_batch > 0) {
        auto x = inputs[0];
        auto reps = (options.latency_batch + x.size(0) - 1) / x.size(0);
        std::vector<int64_t> rep(x.dim(), 1);
        rep[0] = reps;
        inputs = {x.repeat(rep).slice(0, 0, options.latency_batch)};
      }
    }
    LatencyOptions lo;
    lo.warmup = 3;
    // Two alternating rounds, best median of each: a machine whose load changes
    // during the measurement does not favour whichever model ran in the quiet part.
    lo.iters = static_cast<int>(std::max<int64_t>(1, (options.latency_iters + 1) / 2));
    double float_ms = 1e300, quant_ms = 1e300;
    for (int round = 0; round < 2; ++round) {
      float_ms = std::min(float_ms, measure_module_latency(model, inputs, lo).p50_ms);
      quant_ms = std::min(quant_ms, measure_module_latency(quantized, inputs, lo).p50_ms);
    }
    result.has_latency = true;
    result.latency_batch = inputs.empty() || inputs[0].dim() == 0 ? 1 : inputs[0].size(0);
    result.latency_float_ms = float_ms;
    result.latency_quant_ms = quant_ms;
    result.speedup = quant_ms > 0 ? float_ms / quant_ms : 0;
    if (int8 && result.speedup <= 1.0)
      result.warnings.push_back(fmt::format(
          "INT8 IS NOT FASTER THAN FLOAT ON THIS MACHINE: {:.3f} ms vs {:.3f} ms float at batch {} ({:.2f}x)",
          result.latency_quant_ms, result.latency_float_ms, result.latency_batch, result.speedup));
    if (options.min_speedup > 0 && result.speedup < options.min_speedup) {
      result.exit_code = kExitCheckFailed;
      result.warnings.push_back(
          fmt::format("speedup {:.2f}x is below --min-speedup {:.2f}", result.speedup, options.min_speedup));
    }
  }

  // Write the artifact with its metadata (engine included, so loaders can select it).
  std::vector<std::string> float_layers;
  for (const auto& l : result.layers)
    if (!l.quantized) float_layers.push_back(l.name);
  SaveOptions save;
  save.metadata_json = metadata_json(options, result.engine, specs, float_layers);
  save.mobile_optimize = false;  // already frozen and fused
  save.check_inputs = reference.front();
  save.check_rtol = 1e-3;
  save.check_atol = 1e-3;
  auto saved = save_module(quantized, write_path, save);
  if (result.candidate_output.empty()) result.output = saved.path;
  result.format = saved.format;
  result.size_before = extension_of(options.model.path) == ".pt" ? file_size(options.model.path) : 0;
  if (result.size_before == 0) result.size_before = parameter_bytes(model);
  result.size_after = saved.size;
  result.size_ratio = result.size_before > 0 ? static_cast<double>(saved.size) / result.size_before : 0;
  for (const auto& w : result.warnings) log::warn("{}", w);
  return result;
}

}  // namespace mlopt
