#include "mlopt/quantize/int8_passes.h"

#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/quantization/finalize.h>
#include <torch/csrc/jit/passes/quantization/insert_observers.h>
#include <torch/csrc/jit/passes/quantization/insert_quant_dequant.h>

#include <functional>
#include <map>
#include <optional>

#include "mlopt/core/error.h"
#include "mlopt/graph_passes/eval_mode.h"
#include "mlopt/graph_passes/in_place_aliases.h"
#include "mlopt/graph_passes/int8_clamp.h"
#include "mlopt/graph_passes/int8_float_ops.h"
#include "mlopt/graph_passes/silu_decomposition.h"
#include "mlopt/quantize/embedding_int8.h"
#include "mlopt/quantize/fake_quant.h"
#include "mlopt/quantize/fold_batch_norm.h"
#include "mlopt/quantize/observers.h"
#include "mlopt/quantize/phase_timer.h"
#include "mlopt/quantize/rnn_dynamic.h"

namespace mlopt::quant {

namespace {

using torch::jit::QConfigDict;

// The module paths above `name` ("a.b.c" -> "a", "a.b").
std::vector<std::string> ancestors(const std::string& name) {
  std::vector<std::string> out;
  for (auto dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
    out.push_back(name.substr(0, dot));
  return out;
}

// "" applies to the whole model; per-tensor-only modules get per-tensor
// weights; float modules get no qconfig (nullopt).
//
// LibTorch's passes quantize a method graph once per TorchScript type, and
// scripting gives equal submodules one type (ResNet's blocks): a layer kept
// float in one block made its twins in the others float too, and a layer
// "quantized alone" took its twins along. The clone inside the observer pass
// gives a module its own type when its qconfig differs, and qconfigs compare by
// observer identity: so every module above a float one gets an equal qconfig
// of its own (a fresh weight observer), and with it a type of its own.
//
// The activation observer is one object in every qconfig: a value handed to
// several submodules is observed once, and LibTorch's pass requires the
// qconfigs of all the callees it reaches to name the same activation observer
// ("Expecting all values in the graph only configured with one observer":
// MViT-V2 dynamic, where the fresh and per-tensor qconfigs had their own).
// Each insertion deep-copies it, so no observer state is shared.
QConfigDict qconfig_dict(const std::function<torch::jit::Module()>& activation, const Int8Plan& plan) {
  auto weights = [&](bool per_channel) {
    return plan.fake_quant ? make_fake_quant_weight_observer(per_channel) : make_weight_observer(per_channel);
  };
  const torch::jit::Module shared_activation = activation();
  QConfigDict dict;
  bool per_channel = plan.weights != Granularity::per_tensor;
  dict[""] = std::make_tuple(shared_activation, weights(per_channel));
  if (per_channel) {
    auto per_tensor = std::make_tuple(shared_activation, weights(false));  // one qconfig: twins stay twins
    for (const auto& name : plan.per_tensor_modules) dict[name] = per_tensor;
  }
  for (const auto& name : plan.float_modules)
    for (const auto& above : ancestors(name))
      if (!dict.count(above)) dict[above] = std::make_tuple(shared_activation, weights(per_channel));
  for (const auto& name : plan.float_modules) dict[name] = c10::nullopt;
  return dict;
}

// LibTorch's observer pass refuses methods that take TorchScript class objects
// and attributes reached through them (torchvision's detection models pass an
// ImageList around): a one-line refusal that says what works instead.
torch::jit::Module insert_observers(torch::jit::Module module, const QConfigDict& dict,
                                    torch::jit::QuantType type) {
  return with_context("inserting observers", [&] {
    try {
      return torch::jit::InsertObservers(module, "forward", dict, /*inplace=*/false, type);
    } catch (const c10::Error& e) {
      std::string what = e.what();
      if (what.find("has Object as arguments") == std::string::npos &&
          what.find("getModuleAccessPath") == std::string::npos)
        throw;
      fail("{} int8 TorchScript (.pt, .ptl) needs LibTorch's observer pass, which cannot follow TorchScript objects passed between "
           "methods (a detection model's ImageList): quantize to .onnx instead (-o model.onnx)",
           type == torch::jit::QuantType::STATIC ? "static" : "dynamic");
    }
  });
}

void clean_up(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  torch::jit::ConstantPropagation(graph);
  torch::jit::EliminateDeadCode(graph);
}

}  // namespace

torch::jit::Module prepare_static(const torch::jit::Module& model, const Int8Plan& plan) {
  auto folded = plan.fold_batch_norm
                    ? with_context("folding batch norm into convolutions and linear layers",
                                   [&] { return fold_batch_norms(model, plan.fold_check_inputs).module; })
                    : model;
  // Post-training: an eval-mode copy with its flags folded (QAT trains the model: its flags stay).
  if (!plan.fake_quant) {
    folded = graph_passes::specialize_for_eval(folded);
    graph_passes::read_in_place_results(folded);  // the copy's own graphs
    graph_passes::decompose_silu(folded);
  }
  auto activation = plan.fake_quant ? std::function<torch::jit::Module()>([] { return make_fake_quant_activation_observer(); })
                                    : std::function<torch::jit::Module()>(make_activation_observer);
  auto dict = qconfig_dict(activation, plan);
  return insert_observers(folded, dict, torch::jit::QuantType::STATIC);
}

void calibrate_static(torch::jit::Module& prepared, const std::string& observer, double percentile,
                      const std::function<void(torch::jit::Module&)>& run_calibration) {
  auto observers = activation_observers(prepared);
  with_context("calibration", [&] { run_calibration(prepared); });
  if (observer != "minmax") {
    start_histograms(observers);
    with_context("calibration (histograms)", [&] { run_calibration(prepared); });
  }
  choose_activation_qparams(observers, observer, percentile);
}

torch::jit::Module convert_static(const torch::jit::Module& prepared, const std::vector<at::Tensor>& int8_tables) {
  auto source = prepared;  // a handle: the pass clones it (inplace=false)
  auto converted = with_context("inserting quantize/dequantize", [&] {
    return torch::jit::InsertQuantDeQuant(source, "forward", /*inplace=*/false, /*debug=*/false,
                                          torch::jit::QuantType::STATIC);
  });
  auto final_module = with_context("fusing quantized kernels", [&] {
    return torch::jit::Finalize(converted, torch::jit::QuantType::STATIC, {});
  });
  // Pooling with no int8 kernel (max_pool3d) runs float between int8 kernels.
  graph_passes::float_ops_on_int8_inputs(*final_module.get_method("forward").graph());
  // The engine the weights were just packed for is the one the artifact runs on.
  if (at::globalContext().qEngine() == at::QEngine::QNNPACK)
    graph_passes::clamp_on_contiguous_input(*final_module.get_method("forward").graph());
  // Embedding tables: weight-only int8 (the graph-mode passes leave aten::embedding float).
  with_context("int8 embeddings", [&] { rewrite_embeddings_int8(final_module, int8_tables); });
  clean_up(final_module);
  return final_module;
}

torch::jit::Module quantize_static(const torch::jit::Module& model, const Int8Plan& plan, const std::string& observer,
                                   double percentile,
                                   const std::function<void(torch::jit::Module&)>& run_calibration) {
  auto int8_tables = embedding_int8_tables(model, plan.float_modules);
  auto prepared = prepare_static(model, plan);
  calibrate_static(prepared, observer, percentile, run_calibration);
  return convert_static(prepared, int8_tables);
}

torch::jit::Module quantize_dynamic(const torch::jit::Module& model, const Int8Plan& plan) {
  PhaseTimer t0("    the graph-mode dynamic passes (all of them, clone included)");
  auto module = graph_passes::specialize_for_eval(model);
  auto float_rnn_weights = recurrent_float_weights(module, plan.float_modules);
  auto int8_tables = embedding_int8_tables(module, plan.float_modules);
  auto dict = qconfig_dict(make_placeholder_observer, plan);
  std::optional<PhaseTimer> t(std::in_place, "    dynamic passes: observers");
  auto prepared = insert_observers(module, dict, torch::jit::QuantType::DYNAMIC);
  t.emplace("    dynamic passes: quant/dequant");
  auto converted = with_context("inserting dynamic quantization", [&] {
    return torch::jit::InsertQuantDeQuant(prepared, "forward", /*inplace=*/false, /*debug=*/false,
                                          torch::jit::QuantType::DYNAMIC);
  });
  t.emplace("    dynamic passes: finalize");
  auto final_module = with_context("fusing quantized kernels", [&] {
    return torch::jit::Finalize(converted, torch::jit::QuantType::DYNAMIC, {});
  });
  t.emplace("    dynamic passes: rnn, embeddings, clean-up");
  // Recurrent layers: prepacked int8 cell parameters (the passes handle linear only).
  rewrite_recurrent_dynamic(final_module, float_rnn_weights, plan.weights);
  with_context("int8 embeddings", [&] { rewrite_embeddings_int8(final_module, int8_tables); });
  clean_up(final_module);
  return final_module;
}

namespace {

void count_ops(torch::jit::Block* block, std::map<std::string, int64_t>& counts) {
  for (auto* node : block->nodes()) {
    std::string kind = node->kind().toQualString();
    if (kind.rfind("quantized::", 0) == 0 || kind == "aten::quantized_lstm" || kind == "aten::quantized_gru" ||
        kind == "aten::quantize_per_tensor" || kind == "aten::dequantize")
      ++counts[kind];
    for (auto* sub : node->blocks()) count_ops(sub, counts);
  }
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> quantized_op_counts(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph()->copy();
  torch::jit::Inline(*graph);
  std::map<std::string, int64_t> counts;
  count_ops(graph->block(), counts);
  return {counts.begin(), counts.end()};
}

}  // namespace mlopt::quant
