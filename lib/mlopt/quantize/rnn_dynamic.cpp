#include "mlopt/quantize/rnn_dynamic.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/quantize/patterns.h"
#include "mlopt/quantize/weight_granularity.h"

#include <torch/csrc/jit/ir/constants.h>

namespace mlopt::quant {

namespace {

constexpr const char* kCellParamsAttr = "_mlopt_int8_cell_params";

c10::IValue call_op(const char* name, std::vector<c10::IValue> args) {
  auto op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  torch::jit::Stack stack(std::move(args));
  op.callBoxed(&stack);
  return stack.at(0);
}

at::Tensor quantize_weight(const at::Tensor& w, Granularity granularity) {
  return quantize_weight_int8(w, per_channel_weights(w, granularity));
}

at::Tensor attr_tensor(const torch::jit::Module& m, const std::string& name) {
  if (!m.hasattr(name)) return {};
  auto v = m.attr(name);
  return v.isTensor() ? v.toTensor() : at::Tensor();
}

// The weights aten::lstm/gru read, from a frozen graph (a constant list or a
// list built from constants).
std::vector<at::Tensor> constant_weights(torch::jit::Value* params) {
  std::vector<at::Tensor> out;
  auto* node = params->node();
  if (node->kind() == c10::prim::ListConstruct) {
    for (auto* v : node->inputs()) {
      auto iv = torch::jit::toIValue(v);
      if (!iv || !iv->isTensor()) return {};
      out.push_back(iv->toTensor());
    }
  } else if (auto iv = torch::jit::toIValue(params); iv && iv->isTensorList()) {
    for (const auto& t : iv->toTensorVector()) out.push_back(t);
  }
  return out;
}

// One CellParams per layer and direction: (w_ih, w_hh, b_ih, b_hh) groups.
c10::IValue make_cell_params(const std::vector<at::Tensor>& weights, Granularity granularity) {
  std::vector<c10::IValue> values;
  c10::TypePtr cell_type;
  for (size_t i = 0; i + 3 < weights.size(); i += 4) {
    auto packed_ih = call_op("quantized::linear_prepack", {quantize_weight(weights[i], granularity), weights[i + 2]});
    auto packed_hh = call_op("quantized::linear_prepack", {quantize_weight(weights[i + 1], granularity), weights[i + 3]});
    auto cell = call_op("quantized::make_quantized_cell_params_dynamic",
                        {packed_ih, packed_hh, weights[i + 2], weights[i + 3], false});
    cell_type = cell.type();
    values.push_back(cell);
  }
  c10::impl::GenericList list(cell_type);
  for (auto& v : values) list.push_back(v);
  return list;
}

bool is_kept_float(const at::Tensor& first_weight, const std::vector<at::Tensor>& float_weights) {
  for (const auto& w : float_weights)
    if (w.sizes() == first_weight.sizes() && at::equal(w, first_weight)) return true;
  return false;
}

int rewrite_block(torch::jit::Block* block, torch::jit::Module& module, torch::jit::Value* self,
                  const std::vector<at::Tensor>& float_weights, Granularity granularity, int& counter) {
  int rewritten = 0;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    torch::jit::Node* node = *it++;
    for (auto* sub : node->blocks()) rewritten += rewrite_block(sub, module, self, float_weights, granularity, counter);
    std::string kind = node->kind().toQualString();
    bool lstm = kind == "aten::lstm", gru = kind == "aten::gru";
    if (!lstm && !gru) continue;
    // Input order: (input, hx, params, has_biases, ...) or (data, batch_sizes, hx, params, has_biases, ...).
    size_t params_index = node->inputs().size() == 9 ? 2 : 3;
    auto weights = constant_weights(node->input(params_index));
    auto has_biases = torch::jit::toIValue(node->input(params_index + 1));
    if (weights.empty() || is_kept_float(weights[0], float_weights)) continue;
    if (!has_biases || !has_biases->toBool() || weights.size() % 4 != 0) {
      log::warn("a recurrent layer without bias stays in float (dynamic int8 needs bias=True)");
      continue;
    }
    auto cells = with_context("packing int8 recurrent weights", [&] { return make_cell_params(weights, granularity); });
    std::string attr = fmt::format("{}_{}", kCellParamsAttr, counter++);
    module.register_attribute(attr, c10::ListType::create(cells.toList().elementType()), cells);
    auto* graph = node->owningGraph();
    torch::jit::WithInsertPoint guard(node);
    auto* params = graph->insertNode(graph->createGetAttr(self, attr))->output();
    std::vector<torch::jit::Value*> inputs(node->inputs().begin(), node->inputs().end());
    inputs[params_index] = params;
    if (lstm) {
      inputs.push_back(graph->insertConstant(static_cast<int64_t>(at::kQInt8)));  // dtype
      inputs.push_back(graph->insertConstant(true));                              // use_dynamic
    }
    auto* q = graph->create(c10::Symbol::fromQualString(lstm ? "aten::quantized_lstm" : "aten::quantized_gru"), inputs,
                            node->outputs().size());
    graph->insertNode(q);
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      q->output(i)->setType(node->output(i)->type());
      node->output(i)->replaceAllUsesWith(q->output(i));
    }
    node->destroy();
    ++rewritten;
  }
  return rewritten;
}

}  // namespace

std::vector<at::Tensor> recurrent_float_weights(const torch::jit::Module& model,
                                                const std::set<std::string>& float_modules) {
  std::vector<at::Tensor> out;
  for (auto& layer : find_layers(model)) {
    if (layer.pattern->rewrite != Int8Rewrite::recurrent) continue;
    if (float_modules.count(layer.name) && layer.module.hasattr("weight_ih_l0"))
      out.push_back(layer.module.attr("weight_ih_l0").toTensor());
  }
  return out;
}

int rewrite_recurrent_dynamic(torch::jit::Module& frozen, const std::vector<at::Tensor>& float_weights,
                              Granularity granularity) {
  auto graph = frozen.get_method("forward").graph();
  int counter = 0;
  return rewrite_block(graph->block(), frozen, graph->inputs().at(0), float_weights, granularity, counter);
}

}  // namespace mlopt::quant
