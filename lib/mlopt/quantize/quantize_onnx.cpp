// `mlopt quantize ... -o OUT.onnx`: one graph-rewrite design for both
// sources. A .pt/.py model is first exported to float ONNX with the exporter;
// an .onnx model is read as is. The float ModelProto is then rewritten
// (onnx_rewrite.h), measured with the built-in evaluator (accuracy, SQNR,
// sensitivity under an accuracy budget), checked and written.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/version.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/onnx/proto/tensor.h"
#include "mlopt/onnx/export.h"
#include "mlopt/onnx/proto/model_file.h"
#include "mlopt/quantize/onnx_calibrate.h"
#include "mlopt/quantize/onnx_rewrite.h"
#include "mlopt/quantize/quality_check.h"
#include "mlopt/quantize/quantize_support.h"

namespace mlopt {

namespace {

using namespace quant_support;
using quant::OnnxLayer;

struct FloatOnnx {
  onnx::ModelProto model;
  std::vector<InputSpec> specs;
};

// The float ONNX model: read from .onnx, or exported from .pt/.py with the input specs.
FloatOnnx float_onnx(const QuantizeOptions& options, const GlobalOptions& globals) {
  FloatOnnx f;
  if (extension_of(options.model.path) == ".onnx") {
    auto evaluator = onnx_eval::Evaluator::load(options.model.path);
    f.model = evaluator.model();
    f.specs = options.inputs.empty() ? evaluator.input_specs() : parse_input_specs(options.inputs);
    return f;
  }
  f.specs = input_specs(options);
  if (f.specs.empty())
    fail("'{}': exporting to ONNX needs input specs: give --input NAME:SHAPE[:DTYPE] (e.g. x:batch=1x3x224x224)",
         options.model.path);
  auto source = options.model;
  source.seed = globals.seed;
  auto module = load_model(source);
  module.eval();
  f.model = export_module(module, f.specs);
  return f;
}

std::vector<at::Tensor> run_all(const onnx_eval::Evaluator& e, const std::vector<Batch>& batches,
                                const std::string& what) {
  std::vector<at::Tensor> outs;
  for (const auto& b : batches) {
    std::vector<at::Tensor> o;
    try {
      o = e.run(b);
    } catch (const Error& err) {
      throw Error(fmt::format("the ONNX model cannot run on {}: {}", what, err.what()), err.exit_code(), err.detail());
    }
    outs.push_back(o.at(0).to(at::kFloat));
  }
  return outs;
}

const onnx::TensorProto* initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

// Op counts of the kinds that say what the file computes in (reported as "kernels").
std::vector<std::pair<std::string, int64_t>> quantized_op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int64_t> counts;
  for (const auto& n : m.graph().node())
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear" || n.op_type() == "MatMulInteger" ||
        n.op_type() == "DynamicQuantizeLinear")
      counts[n.op_type()]++;
  int64_t half = 0, int8 = 0;
  for (const auto& t : m.graph().initializer()) {
    half += t.data_type() == onnx::TensorProto::FLOAT16;
    int8 += t.data_type() == onnx::TensorProto::INT8;
  }
  if (half) counts["float16 initializers"] = half;
  if (int8) counts["int8 initializers"] = int8;
  return {counts.begin(), counts.end()};
}

// A graph with a fixed batch size runs on batches of exactly that size (a last
// partial batch is dropped, with a warning).
void fit_fixed_batch(std::vector<Batch>& batches, int64_t fixed, const std::string& what,
                     std::vector<std::string>& warnings) {
  if (batches.empty() || batches[0].size() != 1) return;
  bool fits = true;
  for (const auto& b : batches) fits &= b[0].size(0) == fixed;
  if (fits) return;
  std::vector<at::Tensor> parts;
  for (const auto& b : batches) parts.push_back(b[0]);
  auto all = at::cat(parts);
  batches.clear();
  for (int64_t i = 0; i + fixed <= all.size(0); i += fixed) batches.push_back({all.slice(0, i, i + fixed)});
  if (all.size(0) % fixed)
    warnings.push_back(fmt::format("{}: the model's batch size is fixed at {}; the last {} sample(s) are left out", what,
                                   fixed, all.size(0) % fixed));
  if (batches.empty()) fail("{}: fewer samples ({}) than the model's fixed batch size {}", what, all.size(0), fixed);
}

}  // namespace

QuantizeResult quantize_to_onnx(const QuantizeOptions& options, const GlobalOptions& globals) {
  QuantizeResult result;
  result.model = options.model.path;
  result.mode = options.mode;
  result.engine = "onnxruntime";
  result.format = "onnx";
  bool int8 = options.mode == "dynamic" || options.mode == "static";
  auto source = float_onnx(options, globals);
  const auto& float_model = source.model;
  const auto& specs = source.specs;
  if (int8) {
    for (const auto& imp : float_model.opset_import())
      if ((imp.domain().empty() || imp.domain() == "ai.onnx") && imp.version() < 13)
        fail("'{}': opset {} is too old for per-channel QDQ; re-export with opset 13 or newer", options.model.path,
             imp.version());
  }
  onnx_eval::Evaluator float_eval(float_model, "'" + options.model.path + "' (float ONNX)");

  // Which nodes the mode can quantize, and which the user keeps in float.
  auto layers = quant::find_onnx_layers(float_model);
  for (const auto& p : options.skip) {
    bool used = false;
    for (const auto& l : layers) used |= matches_any(l.name, {p});
    if (!used) result.warnings.push_back(fmt::format("--skip '{}' matches no quantizable node", p));
  }
  std::set<std::string> user_float;
  std::vector<std::string> candidates;
  for (const auto& l : layers) {
    QuantizedLayer q;
    q.name = l.name;
    q.kind = l.pattern->kind;
    const auto& node = float_model.graph().node(l.node_index);
    if (const auto* w = initializer(float_model, node.input(l.weight.weight_input))) {
      auto t = onnx_proto::tensor_from_proto(*w, w->name());
      if (l.weight.channel_axis != 0) t = t.movedim(l.weight.channel_axis, 0);
      auto e = weight_error({t}, options.mode == "static" ? !options.per_tensor : options.per_channel, options.mode);
      q.weight_rel_error = e.relative;
      q.weight_sqnr_db = e.sqnr_db;
    }
    std::string which;
    bool supported = options.mode == "static" ? l.pattern->static_int8 : options.mode == "dynamic" ? l.pattern->dynamic_int8 : true;
    if (!supported && !l.pattern->static_int8 && !l.pattern->dynamic_int8) {
      q.float_reason = fmt::format("no int8 form for {} in ONNX", node.op_type());
    } else if (!supported) {
      q.float_reason = fmt::format("no {} int8 form for {} in ONNX (use --mode {})", options.mode, node.op_type(),
                                   options.mode == "dynamic" ? "static" : "dynamic");
    } else if (!l.why_not.empty()) {
      q.float_reason = l.why_not;
    } else if (matches_any(l.name, options.skip, &which)) {
      q.float_reason = "--skip " + which;
      user_float.insert(l.name);
    } else {
      q.quantized = true;
      candidates.push_back(l.name);
    }
    result.layers.push_back(q);
  }
  if (int8) {
    std::map<std::string, int> recurrent;
    for (const auto& n : float_model.graph().node())
      if (n.op_type() == "LSTM" || n.op_type() == "GRU" || n.op_type() == "RNN") recurrent[n.op_type()]++;
    for (const auto& [op, count] : recurrent)
      result.warnings.push_back(fmt::format(
          "{} {} node(s) stay float: standard ONNX has no int8 recurrent op (quantize to .pt for quantized {})", count,
          op, op == "GRU" ? "GRU" : "LSTM"));
  }
  if (!options.skip.empty() && !int8)
    result.warnings.push_back("--skip has no effect on fp16 ONNX: the whole graph computes in float16");
  if (int8 && candidates.empty()) {
    if (layers.empty())
      fail("'{}' has nothing to quantize: no Conv, Gemm or MatMul node with a constant weight", options.model.path);
    fail("'{}' has nothing to quantize in {} mode: {} Conv/Gemm/MatMul node(s), none quantizable or all skipped",
         options.model.path, options.mode, layers.size());
  }
  if (!int8) {
    bool any_float = false;
    for (const auto& t : float_model.graph().initializer()) {
      int64_t n = 1;
      for (auto d : t.dims()) n *= d;
      any_float |= t.data_type() == onnx::TensorProto::FLOAT && n > 1;  // scalars are constants, not weights
    }
    if (!any_float) fail("'{}' has nothing to store in fp16: no float32 weights (only scalar constants)", options.model.path);
  }

  auto data = load_quantize_data(options, specs, globals.seed, result.warnings);
  if (specs.size() == 1 && !specs[0].dims.empty() && !specs[0].dims[0].dynamic() && specs[0].dims[0].size > 0) {
    int64_t fixed = specs[0].dims[0].size;
    fit_fixed_batch(data.calibration, fixed, "calibration data", result.warnings);
    fit_fixed_batch(data.evaluation.batches, fixed, "eval data", result.warnings);
    fit_fixed_batch(data.reference, fixed, "reference inputs", result.warnings);
  }
  auto& evaluation = data.evaluation;
  const auto& reference = data.reference;
  const auto& reference_what = data.reference_what;
  auto float_reference = run_all(float_eval, reference, reference_what);
  check_finite_outputs(float_reference, reference_what);
  if (!evaluation.batches.empty()) evaluation.float_outputs = float_reference;

  std::map<std::string, quant::Range> ranges;
  if (options.mode == "static") {
    auto all = quant::layers_to_quantize(layers, "static", user_float);
    auto values = quant::qdq_activations(float_model, all);
    log::info("quantize: calibrating {} activation(s) on {} batch(es)", values.size(), data.calibration.size());
    ranges = quant::calibrate_onnx(float_model, values, data.calibration, options.observer, options.percentile);
  }
  // Builds the file with `float_layers` (and the user's skips) left in float.
  auto build = [&](const std::set<std::string>& float_layers) {
    auto kept = float_layers;
    kept.insert(user_float.begin(), user_float.end());
    if (options.mode == "fp16") return quant::convert_fp16(float_model);
    auto chosen = quant::layers_to_quantize(layers, options.mode, kept);
    if (options.mode == "dynamic") return quant::quantize_dynamic_onnx(float_model, chosen, options.per_channel);
    quant::QdqPlan plan;
    plan.per_channel = !options.per_tensor;
    plan.ranges = ranges;
    return quant::quantize_qdq(float_model, chosen, plan);
  };
  // The evaluator computes in float32; fp16 files are estimated with float16-rounded weights.
  auto outputs_of = [&](const onnx::ModelProto& m, const std::vector<Batch>& batches) {
    onnx_eval::Evaluator e(options.mode == "fp16" ? quant::round_weights_fp16(float_model) : m, "quantized ONNX");
    return run_all(e, batches, reference_what);
  };
  if (options.mode == "fp16")
    log::info("quantize: fp16 accuracy is estimated with float16-rounded weights and float32 compute");

  auto quantized = build({});
  auto outputs = outputs_of(quantized, reference);
  result.output_sqnr_db = sqnr_db(float_reference, outputs);
  if (!evaluation.batches.empty()) {
    result.has_accuracy = true;
    result.accuracy_metric = evaluation.labelled ? "top1" : "agreement";
    for (const auto& b : evaluation.batches) result.eval_samples += b[0].size(0);
    result.accuracy_before = accuracy(evaluation, float_reference);
    result.accuracy_after = accuracy(evaluation, outputs);
  }

  // Under a budget: nodes measured one by one, the most sensitive back to float until it fits.
  double budget = options.max_accuracy_drop;
  bool over_budget = budget >= 0 && result.accuracy_before - result.accuracy_after > budget;
  std::string write_path = options.output;
  if (int8 && candidates.size() > 1 && (candidates.size() <= 32 || over_budget)) {
    std::map<std::string, double> cost;
    for (const auto& name : candidates) {
      std::set<std::string> others(candidates.begin(), candidates.end());
      others.erase(name);
      auto alone = outputs_of(build(others), reference);
      double sqnr = sqnr_db(float_reference, alone);
      double drop = result.has_accuracy ? result.accuracy_before - accuracy(evaluation, alone) : 0;
      for (auto& l : result.layers)
        if (l.name == name) {
          l.output_sqnr_db = sqnr;
          l.accuracy_drop = drop;
          l.sensitivity_measured = result.has_accuracy;
        }
      cost[name] = drop * 1000.0 - sqnr;
    }
    if (over_budget) {
      auto order = candidates;
      std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return cost[a] > cost[b]; });
      std::set<std::string> fallback, best_fallback;
      double best_accuracy = result.accuracy_after;
      auto best = quantized;
      for (size_t k = 0; k + 1 < order.size(); ++k) {  // at least one node stays int8
        fallback.insert(order[k]);
        auto m = build(fallback);
        double acc = accuracy(evaluation, outputs_of(m, evaluation.batches));
        log::info("quantize: {} node(s) back in float: {:.2f}% ({})", fallback.size(), acc, options.eval);
        if (acc > best_accuracy) {
          best_accuracy = acc;
          best = m;
          best_fallback = fallback;
        }
        if (result.accuracy_before - acc <= budget) break;
      }
      quantized = best;
      result.accuracy_after = best_accuracy;
      outputs = outputs_of(quantized, reference);
      result.output_sqnr_db = sqnr_db(float_reference, outputs);
      write_path = apply_budget_outcome(result, best_fallback, budget, options.output, "node");
    }
  }
  if (result.has_accuracy) {
    Evaluation e = evaluation;
    e.labelled = false;
    result.agreement = accuracy(e, outputs);
  }
  result.quantized_ops = quantized_op_counts(quantized);
  // A badly wrong file is exit 3 with the nodes to blame, and is not written.
  if (!apply_quality_floors(result, options, measure_quality(float_reference, outputs))) {
    result.candidate_output.clear();
    for (const auto& w : result.warnings) log::warn("{}", w);
    return result;
  }

  // Metadata, checker, atomic write.
  std::vector<std::string> float_layers, spec_texts;
  for (const auto& l : result.layers)
    if (!l.quantized) float_layers.push_back(l.name);
  for (const auto& s : specs) spec_texts.push_back(s.to_string());
  nlohmann::json meta{{"producer", "mlopt " + mlopt_version() + " quantize"},
                      {"mode", options.mode},
                      {"float_layers", float_layers},
                      {"inputs", spec_texts}};
  auto* props = quantized.mutable_metadata_props();
  props->erase(std::remove_if(props->begin(), props->end(), [](const auto& p) { return p.key() == "mlopt.quantize"; }),
               props->end());
  auto* prop = quantized.add_metadata_props();
  prop->set_key("mlopt.quantize");
  prop->set_value(meta.dump());
  quant::check_onnx(quantized, fmt::format("the {} ONNX graph of '{}'", options.mode, options.model.path));
  onnx_proto::write_model_file(quantized, write_path);
  if (result.candidate_output.empty()) result.output = write_path;
  // The serialized size without serializing: the float model is never written.
  result.size_before = static_cast<int64_t>(float_model.ByteSizeLong());
  result.size_after = file_size(write_path);
  result.size_ratio = static_cast<double>(result.size_after) / static_cast<double>(result.size_before);
  for (const auto& w : result.warnings) log::warn("{}", w);
  return result;
}

}  // namespace mlopt
