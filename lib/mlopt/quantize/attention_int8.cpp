#include "mlopt/quantize/attention_int8.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/constant_propagation.h>

#include <algorithm>
#include <map>

#include "mlopt/core/error.h"
#include "mlopt/graph_passes/transformer_lowering.h"
#include "mlopt/quantize/patterns.h"
#include "mlopt/quantize/weight_granularity.h"

namespace mlopt::quant {

namespace {

constexpr const char* kProjectionPackedAttr = "_mlopt_int8_projection";

c10::optional<at::Tensor> tensor_attr(const torch::jit::Module& m, const std::string& name) {
  if (!m.hasattr(name)) return c10::nullopt;
  auto v = m.attr(name);
  if (!v.isTensor()) return c10::nullopt;
  return v.toTensor();
}

c10::IValue prepack(const at::Tensor& qweight, const c10::optional<at::Tensor>& bias) {
  auto op = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
  torch::jit::Stack stack{qweight, bias};
  op.callBoxed(&stack);
  return stack.at(0);
}

c10::optional<at::Tensor> constant_tensor(torch::jit::Value* v) {
  if (v->node()->kind() != c10::prim::Constant) return c10::nullopt;
  auto iv = torch::jit::toIValue(v);
  if (!iv || !iv->isTensor()) return c10::nullopt;
  return iv->toTensor();
}

struct ProjectionRewriter {
  torch::jit::Module& module;
  torch::jit::Value* self;
  const std::vector<at::Tensor>& weights;
  Granularity granularity;
  torch::jit::Value* reduce_range = nullptr;  // as the graph passes chose for this engine
  c10::optional<bool> reduce_range_given;
  std::map<std::pair<torch::jit::Value*, torch::jit::Value*>, std::string> packed;  // (weight, bias) -> attribute
  int rewritten = 0;

  void find_reduce_range(torch::jit::Block* b) {
    for (auto* n : b->nodes()) {
      if (n->kind().toQualString() == std::string("quantized::linear_dynamic") && n->inputs().size() == 3)
        reduce_range = n->input(2);
      for (auto* sub : n->blocks()) find_reduce_range(sub);
    }
  }

  void block(torch::jit::Block* b) {
    for (auto it = b->nodes().begin(); it != b->nodes().end();) {
      torch::jit::Node* node = *it++;
      for (auto* sub : node->blocks()) block(sub);
      if (node->kind() == c10::aten::linear) linear(node);
    }
  }

  void linear(torch::jit::Node* node) {
    auto w = constant_tensor(node->input(1));
    if (!w || w->dim() != 2 || !w->is_floating_point() || !is_listed_weight(*w, weights)) return;
    c10::optional<at::Tensor> bias;
    if (node->inputs().size() > 2 && !node->input(2)->type()->cast<c10::NoneType>()) {
      bias = constant_tensor(node->input(2));
      if (!bias) return;  // a bias computed at run time: left float
    }
    auto& attr = packed[{node->input(1), node->inputs().size() > 2 ? node->input(2) : nullptr}];
    if (attr.empty()) {
      attr = fmt::format("{}_{}", kProjectionPackedAttr, packed.size() - 1);
      auto params = with_context("packing an int8 attention projection", [&] {
        auto bias_float = bias ? c10::optional<at::Tensor>(bias->to(at::kFloat)) : c10::nullopt;
        return prepack(quantize_weight_int8(*w, per_channel_weights(*w, granularity)), bias_float);
      });
      module.register_attribute(attr, params.type(), params);
    }
    auto* graph = node->owningGraph();
    torch::jit::WithInsertPoint guard(node);
    auto* params = graph->insertNode(graph->createGetAttr(self, attr))->output();
    auto* rr = reduce_range_given ? graph->insertConstant(*reduce_range_given)
               : reduce_range && reduce_range->node()->kind() == c10::prim::Constant
                   ? graph->insertConstant(*torch::jit::toIValue(reduce_range))
                   : graph->insertConstant(false);
    auto* q = graph->create(c10::Symbol::fromQualString("quantized::linear_dynamic"), {node->input(0), params, rr}, 1);
    graph->insertNode(q);
    q->output()->setType(node->output()->type());
    node->output()->replaceAllUsesWith(q->output());
    node->destroy();
    ++rewritten;
  }
};

}  // namespace

std::vector<std::string> attention_modules(const torch::jit::Module& model) {
  std::vector<std::string> out;
  for (const auto& m : model.named_modules())
    if (m.value.hasattr("in_proj_weight")) out.push_back(m.name);
  return out;
}

std::vector<std::string> fused_transformer_modules(const torch::jit::Module& model) {
  std::vector<std::string> out;
  for (const auto& m : model.named_modules())
    if (auto forward = m.value.find_method("forward");
        forward && graph_passes::calls_fused_transformer(forward->graph()))
      out.push_back(m.name);
  return out;
}

std::vector<AttentionProjection> attention_projections(const torch::jit::Module& model) {
  std::vector<AttentionProjection> out;
  for (const auto& m : model.named_modules()) {
    if (!m.value.hasattr("in_proj_weight")) continue;
    auto prefix = m.name.empty() ? std::string() : m.name + ".";
    // in_proj_weight is None when q, k and v have their own sizes (q_proj_weight, ...).
    if (auto w = tensor_attr(m.value, "in_proj_weight"); w && w->dim() == 2 && w->size(0) % 3 == 0) {
      auto forms = w->chunk(3, 0);
      forms.push_back(*w);
      forms.push_back(w->slice(0, w->size(0) / 3));
      out.push_back({prefix + "in_proj", m.name, *w, forms});
    }
    if (m.value.hasattr("out_proj")) {
      auto proj = m.value.attr("out_proj");
      if (proj.isModule())
        if (auto w = tensor_attr(proj.toModule(), "weight"); w && w->dim() == 2)
          out.push_back({prefix + "out_proj", m.name, *w, {*w}});
    }
  }
  return out;
}

namespace {

// The node run on its inputs when they are constants or lists of constant
// ints (split sizes [E, 2E] are built by prim::ListConstruct).
c10::optional<torch::jit::Stack> run_on_constants(torch::jit::Node* n, const std::vector<at::Tensor>& weights) {
  torch::jit::Stack stack;
  for (auto* v : n->inputs()) {
    if (auto iv = torch::jit::toIValue(v)) {
      stack.push_back(*iv);
      continue;
    }
    if (v->node()->kind() != c10::prim::ListConstruct) return c10::nullopt;
    c10::List<int64_t> ints;
    for (auto* item : v->node()->inputs()) {
      auto iv = torch::jit::toIValue(item);
      if (!iv || !iv->isInt()) break;
      ints.push_back(iv->toInt());
    }
    if (ints.size() != v->node()->inputs().size()) {
      // F._in_projection_packed's w.split([E, E * 2]) with E = query.size(-1)
      // (a run-time size): the packed [3E, ...] weight or [3E] bias split in q and kv.
      if (stack.empty() || !stack[0].isTensor() || v->node()->inputs().size() != 2) return c10::nullopt;
      const auto& t = stack[0].toTensor();
      auto rows = t.size(0);
      bool packed = t.dim() == 2 ? is_listed_weight(t, weights)
                                 : std::any_of(weights.begin(), weights.end(), [&](const at::Tensor& w) {
                                     return t.dim() == 1 && w.dim() == 2 && w.size(0) == rows && rows == 3 * w.size(1);
                                   });
      if (!packed || rows % 3 != 0) return c10::nullopt;
      ints = c10::List<int64_t>({rows / 3, 2 * rows / 3});
    }
    stack.push_back(ints);
  }
  n->getOperation()(stack);
  return stack;
}

// w.split([E, 2E]) / w.chunk(3) of a constant weight, unpacked: constant
// propagation leaves them (lists are mutable), so the pieces become constants here.
void fold_constant_splits(torch::jit::Block* b, const std::vector<at::Tensor>& weights) {
  for (auto it = b->nodes().begin(); it != b->nodes().end();) {
    torch::jit::Node* n = *it++;
    for (auto* sub : n->blocks()) fold_constant_splits(sub, weights);
    auto kind = std::string(n->kind().toQualString());
    if (kind != "aten::split" && kind != "aten::chunk" && kind != "aten::split_with_sizes") continue;
    if (n->outputs().size() != 1 || n->output()->uses().size() != 1) continue;
    auto* unpack = n->output()->uses()[0].user;
    if (unpack->kind() != c10::prim::ListUnpack) continue;
    auto values = run_on_constants(n, weights);
    if (!values || values->size() != 1 || !values->at(0).isTensorList()) continue;
    auto pieces = values->at(0).toTensorList();
    if (pieces.size() != unpack->outputs().size()) continue;
    auto* graph = n->owningGraph();
    torch::jit::WithInsertPoint guard(unpack);
    for (size_t i = 0; i < pieces.size(); ++i)
      unpack->output(i)->replaceAllUsesWith(graph->insertConstant(pieces.get(i)));
  }
}

}  // namespace

int rewrite_linear_dynamic(torch::jit::Module& frozen, const std::vector<at::Tensor>& weights, Granularity granularity,
                           c10::optional<bool> reduce_range) {
  if (weights.empty()) return 0;
  auto graph = frozen.get_method("forward").graph();
  fold_constant_splits(graph->block(), weights);
  ProjectionRewriter r{frozen, graph->inputs()[0], weights, granularity};
  r.reduce_range_given = reduce_range;
  r.find_reduce_range(graph->block());
  r.block(graph->block());
  return r.rewritten;
}

c10::optional<bool> dynamic_reduce_range(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  const std::vector<at::Tensor> none;
  ProjectionRewriter r{module, graph->inputs()[0], none, Granularity::per_tensor};
  r.find_reduce_range(graph->block());
  if (!r.reduce_range || r.reduce_range->node()->kind() != c10::prim::Constant) return c10::nullopt;
  auto v = torch::jit::toIValue(r.reduce_range);
  if (!v || !v->isBool()) return c10::nullopt;
  return v->toBool();
}

}  // namespace mlopt::quant
