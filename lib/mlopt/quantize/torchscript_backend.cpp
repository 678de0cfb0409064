// The TorchScript back end of the quantize driver: layers from the pattern
// table (patterns.h), int8 through LibTorch's graph-mode passes
// (int8_passes.h) or fp16/bf16 storage (half_precision.h), run with LibTorch,
// written as a .pt/.ptl archive.
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <algorithm>
#include <map>
#include <optional>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/libtorch_cause.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/log.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/core/version.h"
#include "mlopt/profile/latency.h"
#include "mlopt/quantize/attention_int8.h"
#include "mlopt/quantize/embedding_int8.h"
#include "mlopt/quantize/backend.h"
#include "mlopt/quantize/engine.h"
#include "mlopt/quantize/executed_ops.h"
#include "mlopt/quantize/half_precision.h"
#include "mlopt/quantize/int8_passes.h"
#include "mlopt/quantize/patterns.h"
#include "mlopt/quantize/phase_timer.h"
#include "mlopt/graph_passes/inplace_activations.h"
#include "mlopt/graph_passes/transformer_lowering.h"
#include "mlopt/quantize/qat.h"
#include "mlopt/runtime/thread_count.h"

namespace mlopt::quant {

namespace {

using quant_support::Batch;
using quant_support::QuantizeData;

struct ModuleArtifact : Artifact {
  explicit ModuleArtifact(torch::jit::Module m, bool once = false) : module(std::move(m)), run_once(once) {}
  torch::jit::Module module;
  // Run once and dropped (a layer group quantized alone): the graph executor's
  // optimization passes, minutes on a BERT-base graph, would not pay for
  // themselves, and the optimized plan they make stays in the compilation unit
  // for good (~90 MB for every ResNet-50 build run optimized; PyTorch's own
  // quantize_jit keeps as much per call).
  bool run_once = false;
};

ArtifactPtr marked_run_once(ArtifactPtr a) {
  static_cast<ModuleArtifact&>(*a).run_once = true;
  return a;
}
torch::jit::Module& module_of(const Artifact& a) {
  return const_cast<ModuleArtifact&>(static_cast<const ModuleArtifact&>(a)).module;
}

quant_support::Outputs run_all(torch::jit::Module& m, const std::vector<Batch>& batches, const std::string& what) {
  quant_support::Outputs outs;
  for (const auto& b : batches) {
    std::vector<at::Tensor> o;
    try {
      o = run_module(m, b);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(fmt::format("the model cannot run on {} (a batch of shape [{}], {}): {}", what,
                              fmt::join(b[0].sizes(), "x"), dtype_name(b[0].scalar_type()),
                              quant_support::last_line(e.what())),
                  kExitError, e.what());
    }
    if (o.empty()) fail("the model returned no tensor");
    outs.resize(std::max(outs.size(), o.size()));
    for (size_t k = 0; k < o.size(); ++k) outs[k].push_back(o[k].to(at::kFloat));
  }
  return outs;
}

bool inside(const std::string& name, const std::vector<std::string>& modules) {
  for (const auto& a : modules)
    if (a.empty() || name.rfind(a + ".", 0) == 0) return true;
  return false;
}

// Kernels for the report: quantized ones, and float ones that still read weights.
std::vector<std::pair<std::string, int64_t>> reported_kernels(const std::map<std::string, int64_t>& executed) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [op, n] : executed)
    if (op.rfind("quantized::", 0) == 0 || op == "aten::quantized_lstm" || op == "aten::quantized_gru" ||
        op == "aten::quantize_per_tensor" || op == "aten::dequantize")
      out.emplace_back(op, n);
  return out;
}

class TorchScriptBackend : public Backend {
 public:
  TorchScriptBackend(const QuantizeOptions& options, const GlobalOptions& globals, QuantizeResult& result,
                     const QatModel* qat)
      : options_(options), int8_(options.mode == "dynamic" || options.mode == "static"), qat_(qat) {
    result.engine = int8_ ? resolve_engine(options.engine, options.output) : "none";
    engine_ = result.engine;
    if (int8_) engine_guard_.emplace(result.engine);
    auto source = options.model;
    source.seed = globals.seed;
    model_ = load_model(source);
    model_.eval();
    specs_ = quant_support::input_specs(options);
    granularity_ = weight_granularity(options.mode, options.per_tensor, options.per_channel);
  }

  std::string unit() const override { return "layer"; }
  std::string group_reason() const override { return "grouped with a layer kept in float (the attention in_proj projections)"; }
  std::vector<InputSpec> input_specs() const override { return specs_; }

  std::vector<BackendLayer> layers() override {
    layers_ = find_layers(model_);
    per_tensor_layers_.clear();
    attention_ = attention_modules(model_);
    projections_ = attention_projections(model_);
    // The observer pass cannot follow a fast-path `if` (one branch a fused kernel reading the
    // float weights, the other the unfused math): static int8 leaves such layers float.
    // (An attention module is both: listed twice, it is still one module to keep float.)
    static_float_layers_ = attention_;
    for (const auto& m : fused_transformer_modules(model_)) static_float_layers_.push_back(m);
    std::vector<BackendLayer> out;
    auto add_in_proj_before = [&](const std::string& name) {
      for (const auto& p : projections_)
        if (p.key.size() > 8 && p.key.compare(p.key.size() - 8, 8, ".in_proj") == 0 && inside(name, {p.attention}) &&
            !std::count_if(out.begin(), out.end(), [&](const auto& b) { return b.key == p.key; }))
          out.push_back(projection_layer(p));
    };
    for (const auto& l : layers_) {
      add_in_proj_before(l.name);
      BackendLayer b;
      b.key = l.name;
      auto& q = b.row;
      q.name = l.name.empty() ? "(model)" : l.name;
      q.kind = l.pattern->kind;
      auto weights = l.pattern->weights(l.module);
      auto granularity = l.pattern->per_channel ? granularity_ : Granularity::per_tensor;
      if (!std::any_of(weights.begin(), weights.end(), [&](const auto& w) { return per_channel_weights(w, granularity); }))
        per_tensor_layers_.insert(l.name);
      bool rows = l.pattern->rewrite == Int8Rewrite::embedding_rows;
      auto e = quant_support::weight_error(weights, granularity, options_.mode, rows);
      if (int8_) q.weight_scales = rows ? "per-row" : per_tensor_layers_.count(l.name) ? "per-tensor" : "per-channel";
      q.weight_rel_error = e.relative;
      q.weight_sqnr_db = e.sqnr_db;
      if (!supported_in_mode(*l.pattern, options_.mode)) {
        q.float_reason = options_.mode == "static"
                             ? fmt::format("no static int8 kernel for {}{}", q.kind,
                                           l.pattern->dynamic_kernel.empty() ? "" : " (use --mode dynamic)")
                             : fmt::format("no dynamic int8 kernel for {}", q.kind);
      } else if (int8_ && engine_ == "qnnpack" && q.kind == "conv3d") {
        // LibTorch 1.13's QNNPACK packs 2-D convolutions only ("QNNPACK only supports conv2d_unpack").
        q.float_reason = "no int8 3-D convolution in QNNPACK, the mobile engine (.ptl; .pt and .onnx have one)";
        b.pinned = true;
      } else if (int8_ && options_.mode != "dynamic" && inside(l.name, static_float_layers_)) {
        q.float_reason = inside(l.name, attention_)
                             ? "inside MultiheadAttention (static int8 of attention: use --mode dynamic)"
                             : "inside a transformer layer with PyTorch's fused fast path (static int8 of it: use "
                               "--mode dynamic)";
        b.pinned = true;
      }
      out.push_back(b);
    }
    return out;
  }

  // The packed q/k/v projection of an attention module: a report row of its own.
  BackendLayer projection_layer(const AttentionProjection& p) const {
    BackendLayer b;
    b.key = p.key;
    b.row.name = p.key;
    b.row.kind = "linear";
    // Measured (and kept float) together: a BERT-base has 12 of them and
    // each measurement is a whole build.
    b.group = "attention in_proj";
    auto e = quant_support::weight_error({p.weight}, granularity_, options_.mode);
    if (int8_) b.row.weight_scales = per_channel_weights(p.weight, granularity_) ? "per-channel" : "per-tensor";
    b.row.weight_rel_error = e.relative;
    b.row.weight_sqnr_db = e.sqnr_db;
    if (options_.mode != "dynamic") {
      b.row.float_reason = options_.mode == "static"
                               ? "inside MultiheadAttention (static int8 of attention: use --mode dynamic)"
                               : "";
      b.pinned = options_.mode == "static";
    }
    return b;
  }

  void check_selection(const std::vector<BackendLayer>& layers, size_t candidates,
                       std::vector<std::string>& warnings) override {
    (void)warnings;
    if (candidates > 0) return;
    if (layers.empty())
      fail("'{}' has nothing to quantize: no Conv2d, Linear, LSTM, GRU or Embedding layers", options_.model.path);
    fail("'{}' has nothing to quantize in {} mode: {} layer(s), none with a {} kernel or all skipped",
         options_.model.path, options_.mode, layers.size(), options_.mode);
  }

  void prepare_data(QuantizeData& data, std::vector<std::string>& warnings) override {
    if (!data.calibration.empty() && !options_.calibration.empty())
      run_all(model_, {data.calibration.front()}, fmt::format("the calibration data '{}'", options_.calibration));
    if (options_.mode == "dynamic" && !attention_.empty()) {
      const auto& probe = !data.calibration.empty() ? data.calibration.front() : data.reference.front();
      check_lowering(probe, warnings);
    }
  }

  quant_support::Outputs run_float(const std::vector<Batch>& batches, const std::string& what) override {
    if (!batches.empty()) probe_ = batches.front();
    return run_all(model_, batches, what);
  }

  // The unfused float model must compute what the fused one does before
  // its projections are made int8 (transformer_lowering.h).
  void check_lowering(const Batch& probe, std::vector<std::string>& warnings) {
    auto frozen = with_context("freezing the float model", [&] { return torch::jit::freeze(model_.clone()); });
    auto stats = graph_passes::lower_transformer_fast_paths(frozen.get_method("forward").graph());
    if (stats.fast_paths == 0 && stats.nested_inputs == 0) return;
    auto fused = run_all(model_, {probe}, "the lowering check")[0];
    auto lowered = run_all(frozen, {probe}, "the lowering check (unfused)")[0];
    double scale = fused[0].abs().max().item<double>();
    double diff = fused[0].sizes() == lowered[0].sizes() ? (fused[0] - lowered[0]).abs().max().item<double>() : 1e300;
    log::info("quantize: {} fused transformer branch(es) and {} nested-tensor conversion(s) lowered to the unfused "
              "path; max |difference| to the fused float model {:.3g} (outputs up to {:.3g})",
              stats.fast_paths, stats.nested_inputs, diff, scale);
    if (!(diff <= 1e-4 * std::max(1.0, scale)))
      warnings.push_back(fmt::format("the unfused transformer path differs from the fused float model by up to {:.3g} "
                                     "(outputs up to {:.3g}) on the first calibration batch",
                                     diff, scale));
  }

  // The passes observe activations while they build (quantize_static), so
  // calibration here only keeps the data.
  void calibrate(const QuantizeData& data, const std::set<std::string>& user_float) override {
    (void)user_float;
    calibration_ = data.calibration;
  }

  ArtifactPtr build(const std::set<std::string>& float_layers) override {
    if (!int8_) return std::make_shared<ModuleArtifact>(store_in_half(model_, options_.mode).module);
    Int8Plan plan;
    plan.weights = granularity_;
    for (const auto& l : layers_)
      if (per_tensor_layers_.count(l.name) && !l.name.empty()) plan.per_tensor_modules.insert(l.name);
    if (!calibration_.empty()) plan.fold_check_inputs = calibration_.front();
    plan.float_modules = float_layers;
    // Attention and fused transformer layers stay float in static mode (their rows say so), whole
    // modules: the passes would otherwise observe what attention's functional forward computes, a
    // list concatenation of q/k/v projections included (a ViT's nn.MultiheadAttention: "Expected a
    // value of type 'Tensor' for argument 'x' but instead found type 'List[Tensor]'"), and observe
    // the two branches of a fast-path `if` differently.
    if (options_.mode == "static") plan.float_modules.insert(static_float_layers_.begin(), static_float_layers_.end());
    if (qat_ && float_layers == qat_->float_modules)
      return std::make_shared<ModuleArtifact>(with_context("converting the trained model", [&] { return convert_qat(*qat_); }));
    if (options_.mode == "static") {
      auto run_calibration = [&](torch::jit::Module& prepared) {
        torch::jit::GraphOptimizerEnabledGuard unoptimized(false);  // run once (ModuleArtifact::run_once)
        for (const auto& b : calibration_) {
          std::vector<c10::IValue> args(b.begin(), b.end());
          torch::NoGradGuard no_grad;
          prepared.forward(args);
        }
      };
      // Other layer sets (sensitivity, the accuracy budget) of a QAT model: its trained weights, calibrated.
      auto module = quantize_static(qat_ ? qat_->trained_float : model_, plan, options_.observer, options_.percentile,
                                    run_calibration);
      quantize_linears_called_by_weight(module, float_layers);
      return std::make_shared<ModuleArtifact>(module);
    }
    // Attention modules are left to attention_int8.h (the passes cannot re-type their out_proj).
    for (const auto& a : attention_) plan.float_modules.insert(a);
    for (const auto& p : projections_) plan.float_modules.erase(p.key);
    auto module = quantize_dynamic(model_, plan);
    if (!attention_.empty()) {
      PhaseTimer timer("    attention lowering and int8 projections");
      auto graph = module.get_method("forward").graph();
      graph_passes::lower_transformer_fast_paths(graph);
      std::vector<at::Tensor> int8_weights;
      for (const auto& p : projections_)
        if (!float_layers.count(p.key)) int8_weights.insert(int8_weights.end(), p.forms.begin(), p.forms.end());
      with_context("int8 attention projections", [&] { rewrite_linear_dynamic(module, int8_weights, granularity_); });
      torch::jit::EliminateDeadCode(graph);
    }
    quantize_linears_called_by_weight(module, float_layers);
    graph_passes::run_activations_in_place(*module.get_method("forward").graph());
    if (auto rr = dynamic_reduce_range(module)) reduce_range_ = rr;
    return std::make_shared<ModuleArtifact>(module);
  }

  // Linear layers whose module is not what runs: their weight is handed to
  // F.linear elsewhere (torchvision's Swin passes self.qkv.weight and
  // self.proj.weight to a function), so the graph-mode passes, which quantize
  // calls of a module, leave them float while the report lists them. The
  // frozen graph's aten::linear over such a weight becomes the dynamic int8
  // kernel (in a static model too: it takes and gives float, as the call did).
  void quantize_linears_called_by_weight(torch::jit::Module& module, const std::set<std::string>& float_layers) const {
    std::vector<at::Tensor> weights;
    for (const auto& l : layers_)
      if (l.pattern->kind == "linear" && l.pattern->rewrite == Int8Rewrite::graph_passes && !l.name.empty() &&
          !float_layers.count(l.name) && !inside(l.name, attention_))
        for (const auto& w : l.pattern->weights(l.module)) weights.push_back(w);
    if (weights.empty()) return;
    int rewritten = with_context("int8 linear calls on layer weights",
                                 [&] { return rewrite_linear_dynamic(module, weights, granularity_); });
    if (rewritten > 0) {
      log::info("quantize: {} linear call(s) on a layer's weight outside its module made int8 (dynamic kernel)",
                rewritten);
      torch::jit::EliminateDeadCode(module.get_method("forward").graph());
    }
  }

  quant_support::Outputs run(const Artifact& a, const std::vector<Batch>& batches, const std::string& what) override {
    if (!static_cast<const ModuleArtifact&>(a).run_once) return run_all(module_of(a), batches, what);
    torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
    return run_all(module_of(a), batches, what);
  }

  // Dynamic int8 of linear layers, attention projections and embeddings
  // alone: their aten::linear / aten::embedding calls in the frozen, lowered
  // float graph become quantized::linear_dynamic / quantized::embedding_byte,
  // as build() makes them (same weight quantization, same reduce_range),
  // without the graph-mode passes over the whole model and a deep copy of it
  // per group (minutes each on a BERT-base). Other layer kinds, and a group
  // whose calls are not all found, take build().
  ArtifactPtr build_alone(const std::vector<std::string>& group, const std::set<std::string>& float_layers) override {
    std::vector<at::Tensor> weights, tables;
    if (options_.mode != "dynamic" || qat_ || !reduce_range_ || !alone_weights(group, weights, tables))
      return marked_run_once(build(float_layers));
    auto module = with_context("freezing the float model", [&] { return lowered_float().clone(); });
    int rewritten = with_context("int8 linear layers", [&] {
      return rewrite_linear_dynamic(module, weights, granularity_, reduce_range_) +
             (tables.empty() ? 0 : rewrite_embeddings_int8(module, tables));
    });
    if (rewritten < static_cast<int>(group.size())) {
      log::debug("quantize: {} of the {} group's linear calls found in the frozen graph: full build", rewritten,
                 group.front());
      return marked_run_once(build(float_layers));
    }
    torch::jit::EliminateDeadCode(module.get_method("forward").graph());
    return std::make_shared<ModuleArtifact>(module, /*once=*/true);
  }

  // The weights the group's int8 linear calls read, and the tables of its
  // embeddings; false when a layer of the group is neither.
  bool alone_weights(const std::vector<std::string>& group, std::vector<at::Tensor>& weights,
                     std::vector<at::Tensor>& tables) const {
    for (const auto& key : group) {
      auto p = std::find_if(projections_.begin(), projections_.end(), [&](const auto& x) { return x.key == key; });
      if (p != projections_.end()) {
        weights.insert(weights.end(), p->forms.begin(), p->forms.end());
        continue;
      }
      auto l = std::find_if(layers_.begin(), layers_.end(), [&](const auto& x) { return x.name == key; });
      if (l == layers_.end() || l->name.empty() || inside(l->name, attention_)) return false;
      auto w = l->pattern->weights(l->module);
      if (w.size() != 1) return false;
      if (l->pattern->rewrite == Int8Rewrite::embedding_rows)
        tables.push_back(w[0]);
      else if (l->pattern->kind == "linear" && l->pattern->rewrite == Int8Rewrite::graph_passes)
        weights.push_back(w[0]);
      else
        return false;
    }
    return !weights.empty() || !tables.empty();
  }

  // The float model frozen (no numerics-changing folds) with its transformer
  // fast paths lowered: made once, cloned per group (the clone shares the weight constants).
  torch::jit::Module& lowered_float() {
    if (!lowered_float_) {
      auto frozen = torch::jit::freeze_module(model_);
      graph_passes::lower_transformer_fast_paths(frozen.get_method("forward").graph());
      lowered_float_ = frozen;
    }
    return *lowered_float_;
  }

  // LibTorch 1.13's oneDNN int8 convolution fails with "could not create a
  // primitive descriptor for a reorder primitive" when the batch size changes
  // on some shapes (MobileNetV3's squeeze-excitation, 960 -> 240 channels on
  // 1x1 pixels; MobileNetV2's 96 -> 576 at 14x14), with two threads. The failing
  // convolution is named by its place among the convolutions run.
  BatchChangeFailure batch_change_failure(const Artifact& a, const Batch& reference) override {
    if (reference.empty() || reference[0].dim() == 0) return {};
    Batch other;  // batch 1 after the reference's, or 2 after a batch of 1
    for (const auto& t : reference)
      other.push_back(t.dim() == 0 ? t : t.size(0) > 1 ? t.narrow(0, 0, 1) : at::cat({t, t}));
    BatchChangeFailure failure;
    WatchedForward at_reference, ran;
    {
      ThreadCountScope two_or_more(std::max(2, at::get_num_threads()));
      try {
        run_module(model_, other);  // a model made for one batch size (a traced reshape) is not checked
      } catch (const std::exception&) {
        return failure;
      }
      at_reference = forward_watching_convolutions(module_of(a), reference);
      ran = at_reference.error.empty() ? forward_watching_convolutions(module_of(a), other) : at_reference;
    }
    if (ran.error.empty()) return failure;
    failure.error = libtorch_cause(ran.error);
    failure.at_reference_batch = !at_reference.error.empty();
    // The n-th convolution is the float model's n-th when both run as many.
    if (ran.failed_in_convolution && at_reference.error.empty() &&
        at_reference.convolutions == static_cast<int64_t>(convolution_order(reference).size()))
      failure.layer = convolution_layer(reference, ran.convolutions - 1);
    return failure;
  }

  const std::vector<const void*>& convolution_order(const Batch& reference) {
    if (convolution_order_.empty())
      convolution_order_ = with_context("recording the order of the convolutions",
                                        [&] { return convolution_weights_in_order(model_, reference); });
    return convolution_order_;
  }

  // The key of the n-th convolution the float model runs on `reference`, when it is a layer.
  std::string convolution_layer(const Batch& reference, int64_t n) {
    const auto& order = convolution_order(reference);
    if (n < 0 || n >= static_cast<int64_t>(order.size())) return "";
    for (const auto& l : layers_) {
      auto w = l.name.empty() ? std::vector<at::Tensor>{} : l.pattern->weights(l.module);
      if (w.size() == 1 && w[0].data_ptr() == order[n]) return l.name;
    }
    return "";
  }

  // What runs on the first reference batch, not what the graph contains.
  std::vector<std::pair<std::string, int64_t>> op_counts(const Artifact& a) override {
    if (probe_.empty()) return quantized_op_counts(module_of(a));
    auto executed = with_context("listing the kernels the quantized model executes",
                                 [&] { return executed_ops(module_of(a), probe_); });
    return reported_kernels(executed);
  }

  bool times_latency() const override { return true; }
  double latency_ms(const Artifact* a, const Batch& inputs, int iters, int warmup) override {
    LatencyOptions lo;
    lo.warmup = warmup;
    lo.iters = iters;
    return measure_module_latency(a ? module_of(*a) : model_, inputs, lo).p50_ms;
  }

  // The archive with its metadata (engine included, so loaders can select it).
  void write(const Artifact& a, const std::string& path, const QuantizeData& data,
             const std::vector<std::string>& float_layers, QuantizeResult& result) override {
    SaveOptions save;
    save.metadata_json = metadata_json(result.engine, float_layers);
    save.mobile_optimize = false;  // already frozen and fused
    save.check_inputs = data.reference.front();
    save.check_rtol = 1e-3;
    save.check_atol = 1e-3;
    auto saved = save_module(module_of(a), path, save);
    if (result.candidate_output.empty()) result.output = saved.path;
    result.format = saved.format;
    result.size_before = extension_of(options_.model.path) == ".pt" ? file_size(options_.model.path) : 0;
    if (result.size_before == 0) result.size_before = parameter_bytes(model_);
    result.size_after = saved.size;
    result.size_ratio = result.size_before > 0 ? static_cast<double>(saved.size) / result.size_before : 0;
  }

 private:
  std::string metadata_json(const std::string& engine, const std::vector<std::string>& float_layers) const {
    nlohmann::json j{{"producer", "mlopt " + mlopt_version() + " quantize"},
                     {"mode", options_.mode},
                     {"engine", engine},
                     {"float_layers", float_layers}};
    std::vector<std::string> inputs;
    for (const auto& s : specs_) inputs.push_back(s.to_string());
    j["inputs"] = inputs;
    return j.dump();
  }

  const QuantizeOptions& options_;
  const bool int8_;
  const QatModel* qat_;
  std::string engine_;  // onednn or qnnpack (int8), else none
  std::optional<EngineGuard> engine_guard_;
  torch::jit::Module model_;
  std::vector<InputSpec> specs_;
  Granularity granularity_ = Granularity::per_channel;
  std::set<std::string> per_tensor_layers_;  // layers whose weights take one scale
  std::vector<Layer> layers_;
  std::vector<std::string> attention_;
  std::vector<std::string> static_float_layers_;  // attention and fused transformer layers
  std::vector<AttentionProjection> projections_;
  std::vector<Batch> calibration_;
  Batch probe_;  // the first reference batch: what the kernel list executes
  c10::optional<bool> reduce_range_;  // what the passes chose for linear_dynamic (from the full build)
  c10::optional<torch::jit::Module> lowered_float_;
  std::vector<const void*> convolution_order_;
};

}  // namespace

std::unique_ptr<Backend> torchscript_backend(const QuantizeOptions& options, const GlobalOptions& globals,
                                             QuantizeResult& result, const QatModel* qat) {
  return std::make_unique<TorchScriptBackend>(options, globals, result, qat);
}

}  // namespace mlopt::quant
