// The ONNX back end of the quantize driver. A .pt/.py model is first exported
// to float ONNX with the exporter; an .onnx model is read as is. The float
// ModelProto is rewritten (onnx_rewrite.h) per the ONNX pattern table
// (onnx_patterns.h), run with the built-in evaluator, checked and written.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/version.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/onnx/export.h"
#include "mlopt/onnx/proto/model_file.h"
#include "mlopt/onnx/proto/tensor.h"
#include "mlopt/quantize/backend.h"
#include "mlopt/quantize/onnx_calibrate.h"
#include "mlopt/quantize/onnx_rewrite.h"
#include "mlopt/quantize/qat.h"

namespace mlopt::quant {

namespace {

using quant_support::Batch;
using quant_support::QuantizeData;

// The file as written, and the model the evaluator runs to measure it (fp16
// files: the float model with float16-rounded weights, since the evaluator
// computes in float32).
struct OnnxArtifact : Artifact {
  onnx::ModelProto model;
  std::unique_ptr<onnx_eval::Evaluator> evaluator;
};
const OnnxArtifact& onnx_of(const Artifact& a) { return static_cast<const OnnxArtifact&>(a); }

quant_support::Outputs run_all(const onnx_eval::Evaluator& e, const std::vector<Batch>& batches,
                               const std::string& what) {
  quant_support::Outputs outs;
  for (const auto& b : batches) {
    std::vector<at::Tensor> o;
    try {
      o = e.run(b);
    } catch (const Error& err) {
      throw Error(fmt::format("the ONNX model cannot run on {}: {}", what, err.what()), err.exit_code(), err.detail());
    }
    if (o.empty()) fail("the ONNX model returned no tensor on {}", what);
    outs.resize(std::max(outs.size(), o.size()));
    for (size_t k = 0; k < o.size(); ++k) outs[k].push_back(o[k].to(at::kFloat));
  }
  return outs;
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

class OnnxBackend : public Backend {
 public:
  OnnxBackend(const QuantizeOptions& options, const GlobalOptions& globals, QuantizeResult& result,
              const QatModel* qat)
      : options_(options), int8_(options.mode == "dynamic" || options.mode == "static"), qat_(qat != nullptr) {
    result.engine = "onnxruntime";
    result.format = "onnx";
    load_float_model(globals);
    // A QAT model: its trained weights are what is quantized; the float model stays the reference.
    source_model_ = calibration_model_ = float_model_;
    if (qat) {
      auto trained = qat->trained_float;  // a handle
      source_model_ = calibration_model_ = with_context("exporting the trained model to ONNX", [&] {
        return export_module(trained, specs_, export_options());
      });
      // Ranges frozen from the start: the ones training rounded to are the calibration of the model before it.
      if (options.freeze_observers_after == 0) {
        auto calibrated = qat->calibrated_float;
        calibration_model_ = export_module(calibrated, specs_, export_options());
      }
    }
    if (int8_) {
      for (const auto& imp : float_model_.opset_import())
        if ((imp.domain().empty() || imp.domain() == "ai.onnx") && imp.version() < 13)
          fail("'{}': opset {} is too old for per-channel QDQ; re-export with opset 13 or newer", options.model.path,
               imp.version());
    }
    float_eval_ = std::make_unique<onnx_eval::Evaluator>(float_model_, "'" + options.model.path + "' (float ONNX)");
  }

  std::string unit() const override { return "node"; }
  std::vector<InputSpec> input_specs() const override { return specs_; }

  std::vector<BackendLayer> layers() override {
    layers_ = find_onnx_layers(source_model_);
    auto inits = initializers_of(source_model_.graph());
    auto granularity = weight_granularity(options_.mode, options_.per_tensor, options_.per_channel);
    bool int8 = options_.mode == "static" || options_.mode == "dynamic" || options_.mode == "qat";
    std::vector<BackendLayer> out;
    for (const auto& l : layers_) {
      BackendLayer b;
      b.key = l.name;
      auto& q = b.row;
      q.name = l.name;
      q.kind = l.pattern->kind;
      const auto& node = source_model_.graph().node(l.node_index);
      auto w = inits.find(node.input(l.weight.weight_input));
      if (w != inits.end()) {
        auto t = onnx_proto::tensor_from_proto(*w->second, w->second->name());
        if (l.weight.channel_axis != 0) t = t.movedim(l.weight.channel_axis, 0);
        auto e = quant_support::weight_error({t}, granularity, options_.mode);
        if (int8) q.weight_scales = per_channel_weights(t, granularity) ? "per-channel" : "per-tensor";
        q.weight_rel_error = e.relative;
        q.weight_sqnr_db = e.sqnr_db;
      }
      q.float_reason = float_reason(*l.pattern, options_.mode);
      if (q.float_reason.empty()) q.float_reason = l.why_not;
      out.push_back(b);
    }
    return out;
  }

  void check_selection(const std::vector<BackendLayer>& layers, size_t candidates,
                       std::vector<std::string>& warnings) override {
    if (int8_) {
      std::map<std::string, int> counts;
      for (const auto& n : source_model_.graph().node())
        if (onnx_float_only_op(n.op_type())) counts[n.op_type()]++;
      for (const auto& [op, count] : counts)
        warnings.push_back(fmt::format("{} {} node(s) stay float: {}", count, op, onnx_float_only_op(op)->why));
    }
    if (!options_.skip.empty() && !int8_)
      warnings.push_back("--skip has no effect on fp16 ONNX: the whole graph computes in float16");
    if (int8_ && candidates == 0) {
      if (layers.empty())
        fail("'{}' has nothing to quantize: no Conv, Gemm or MatMul node with a constant weight", options_.model.path);
      fail("'{}' has nothing to quantize in {} mode: {} Conv/Gemm/MatMul node(s), none quantizable or all skipped",
           options_.model.path, options_.mode, layers.size());
    }
    if (!int8_) {
      bool any_float = false;
      for (const auto& t : float_model_.graph().initializer()) {
        int64_t n = 1;
        for (auto d : t.dims()) n *= d;
        any_float |= t.data_type() == onnx::TensorProto::FLOAT && n > 1;  // scalars are constants, not weights
      }
      if (!any_float)
        fail("'{}' has nothing to store in fp16: no float32 weights (only scalar constants)", options_.model.path);
    }
  }

  void prepare_data(QuantizeData& data, std::vector<std::string>& warnings) override {
    if (specs_.size() == 1 && !specs_[0].dims.empty() && !specs_[0].dims[0].dynamic() && specs_[0].dims[0].size > 0) {
      int64_t fixed = specs_[0].dims[0].size;
      fit_fixed_batch(data.calibration, fixed, "calibration data", warnings);
      fit_fixed_batch(data.evaluation.batches, fixed, "eval data", warnings);
      fit_fixed_batch(data.reference, fixed, "reference inputs", warnings);
    }
    if (options_.mode == "fp16")
      log::info("quantize: fp16 accuracy is estimated with float16-rounded weights and float32 compute");
  }

  quant_support::Outputs run_float(const std::vector<Batch>& batches, const std::string& what) override {
    return run_all(*float_eval_, batches, what);
  }

  std::vector<std::string> output_names() const override {
    std::vector<std::string> names;
    for (const auto& o : float_model_.graph().output()) names.push_back(o.name());
    return names;
  }

  void calibrate(const QuantizeData& data, const std::set<std::string>& user_float) override {
    auto all = layers_to_quantize(layers_, "static", user_float);
    auto values = qdq_activations(source_model_, all);
    log::info("quantize: calibrating {} activation(s) on {} batch(es)", values.size(), data.calibration.size());
    ranges_ = calibrate_onnx(calibration_model_, values, data.calibration, options_.observer, options_.percentile);
    if (qat_) keep_pooling_ranges();
  }

  ArtifactPtr build(const std::set<std::string>& float_layers) override {
    auto a = std::make_shared<OnnxArtifact>();
    if (options_.mode == "fp16") {
      a->model = convert_fp16(float_model_);
    } else {
      auto chosen = layers_to_quantize(layers_, options_.mode, float_layers);
      if (options_.mode == "dynamic") {
        a->model = quantize_dynamic_onnx(source_model_, chosen,
                                         weight_granularity(options_.mode, options_.per_tensor, options_.per_channel));
      } else {
        QdqPlan plan;
        plan.per_channel = !options_.per_tensor;
        plan.ranges = ranges_;
        a->model = quantize_qdq(source_model_, chosen, plan);
      }
    }
    a->evaluator = std::make_unique<onnx_eval::Evaluator>(
        options_.mode == "fp16" ? round_weights_fp16(float_model_) : a->model, "quantized ONNX");
    return a;
  }

  quant_support::Outputs run(const Artifact& a, const std::vector<Batch>& batches, const std::string& what) override {
    return run_all(*onnx_of(a).evaluator, batches, what);
  }

  // Op counts of the kinds that say what the file computes in (reported as "kernels").
  std::vector<std::pair<std::string, int64_t>> op_counts(const Artifact& a) override {
    const auto& m = onnx_of(a).model;
    std::map<std::string, int64_t> counts;
    for (const auto& n : m.graph().node())
      if (onnx_quantized_op(n.op_type())) counts[n.op_type()]++;
    int64_t half = 0, int8 = 0;
    for (const auto& t : m.graph().initializer()) {
      half += t.data_type() == onnx::TensorProto::FLOAT16;
      int8 += t.data_type() == onnx::TensorProto::INT8;
    }
    if (half) counts["float16 initializers"] = half;
    if (int8) counts["int8 initializers"] = int8;
    return {counts.begin(), counts.end()};
  }

  // Metadata, checker, atomic write.
  void write(const Artifact& a, const std::string& path, const QuantizeData& data,
             const std::vector<std::string>& float_layers, QuantizeResult& result) override {
    (void)data;
    onnx::ModelProto quantized = onnx_of(a).model;
    std::vector<std::string> spec_texts;
    for (const auto& s : specs_) spec_texts.push_back(s.to_string());
    nlohmann::json meta{{"producer", "mlopt " + mlopt_version() + " quantize"},
                        {"mode", options_.mode},
                        {"float_layers", float_layers},
                        {"inputs", spec_texts}};
    auto* props = quantized.mutable_metadata_props();
    props->erase(std::remove_if(props->begin(), props->end(), [](const auto& p) { return p.key() == "mlopt.quantize"; }),
                 props->end());
    auto* prop = quantized.add_metadata_props();
    prop->set_key("mlopt.quantize");
    prop->set_value(meta.dump());
    check_onnx(quantized, fmt::format("the {} ONNX graph of '{}'", options_.mode, options_.model.path));
    onnx_proto::write_model_file(quantized, path);
    if (result.candidate_output.empty()) result.output = path;
    // The serialized size without serializing: the float model is never written.
    result.size_before = static_cast<int64_t>(float_model_.ByteSizeLong());
    result.size_after = file_size(path);
    result.size_ratio = static_cast<double>(result.size_after) / static_cast<double>(result.size_before);
  }

 private:
  // QAT trained with LibTorch's int8 semantics, where pooling and reshaping keep their input's scale: a
  // range of their own (calibrated on pooled values, clipped elsewhere) would round where training did not.
  void keep_pooling_ranges() {
    static const std::set<std::string> keeps_scale = {"MaxPool", "AveragePool", "GlobalAveragePool", "Flatten",
                                                      "Reshape"};
    std::map<std::string, Range> inherited;
    for (const auto& n : source_model_.graph().node()) {
      if (!keeps_scale.count(n.op_type()) || n.input_size() < 1 || n.output_size() < 1) continue;
      auto own = ranges_.find(n.input(0));
      auto passed = inherited.find(n.input(0));
      if (passed == inherited.end() && own == ranges_.end()) continue;
      const Range range = passed != inherited.end() ? passed->second : own->second;
      inherited[n.output(0)] = range;
      if (ranges_.count(n.output(0))) ranges_[n.output(0)] = range;
    }
  }

  // The float ONNX model: read from .onnx, or exported from .pt/.py with the input specs.
  void load_float_model(const GlobalOptions& globals) {
    if (extension_of(options_.model.path) == ".onnx") {
      auto evaluator = onnx_eval::Evaluator::load(options_.model.path);
      float_model_ = evaluator.model();
      specs_ = options_.inputs.empty() ? evaluator.input_specs() : parse_input_specs(options_.inputs);
      return;
    }
    specs_ = quant_support::input_specs(options_);
    if (specs_.empty())
      fail("'{}': exporting to ONNX needs input specs: give --input NAME:SHAPE[:DTYPE] (e.g. x:batch=1x3x224x224)",
           options_.model.path);
    auto source = options_.model;
    source.seed = globals.seed;
    auto module = load_model(source);
    module.eval();
    float_model_ = export_module(module, specs_, export_options());
  }

  // The exporter's outputs are named as export-onnx names them (--output-names,
  // a returned dict's keys); the rewrites keep the names, so the file has them.
  ModuleExportOptions export_options() const {
    ModuleExportOptions o;
    o.output_names = options_.output_names;
    return o;
  }

  const QuantizeOptions& options_;
  const bool int8_;
  const bool qat_;
  onnx::ModelProto float_model_;
  onnx::ModelProto source_model_;  // the model quantized: the float one, or the QAT-trained one
  onnx::ModelProto calibration_model_;  // the model whose activations give the ranges (same graph)
  std::vector<InputSpec> specs_;
  std::unique_ptr<onnx_eval::Evaluator> float_eval_;
  std::vector<OnnxLayer> layers_;
  std::map<std::string, Range> ranges_;
};

}  // namespace

std::unique_ptr<Backend> onnx_backend(const QuantizeOptions& options, const GlobalOptions& globals,
                                      QuantizeResult& result, const QatModel* qat) {
  return std::make_unique<OnnxBackend>(options, globals, result, qat);
}

}  // namespace mlopt::quant
