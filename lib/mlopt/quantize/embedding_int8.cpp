#include "mlopt/quantize/embedding_int8.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/ir/constants.h>

#include <limits>
#include <map>

#include "mlopt/core/error.h"
#include "mlopt/quantize/patterns.h"

namespace mlopt::quant {

namespace {

constexpr const char* kEmbeddingPackedAttr = "_mlopt_int8_embedding";

c10::IValue prepack(const at::Tensor& qweight) {
  auto op = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::embedding_bag_prepack", "");
  torch::jit::Stack stack{qweight};
  op.callBoxed(&stack);
  return stack.at(0);
}

// A float [rows, dim] table that only embedding lookups read (not an in-place
// max_norm renorm, not a tied output projection left in float).
c10::optional<at::Tensor> lookup_table(torch::jit::Value* weight) {
  if (weight->node()->kind() != c10::prim::Constant) return c10::nullopt;
  auto iv = torch::jit::toIValue(weight);
  if (!iv || !iv->isTensor()) return c10::nullopt;
  auto t = iv->toTensor();
  if (t.scalar_type() != at::kFloat || t.dim() != 2 || t.size(0) == 0 || t.size(1) == 0) return c10::nullopt;
  for (const auto& use : weight->uses())
    if (use.user->kind() != c10::aten::embedding || use.offset != 0) return c10::nullopt;
  return t;
}

struct EmbeddingRewriter {
  torch::jit::Module& module;
  torch::jit::Value* self;
  const std::vector<at::Tensor>& tables;
  std::map<torch::jit::Value*, std::string> packed;  // weight constant -> module attribute
  int rewritten = 0;

  void block(torch::jit::Block* b) {
    for (auto it = b->nodes().begin(); it != b->nodes().end();) {
      torch::jit::Node* node = *it++;
      for (auto* sub : node->blocks()) block(sub);
      if (node->kind() == c10::aten::embedding) embedding(node);
    }
  }

  void embedding(torch::jit::Node* node) {
    // aten::embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse): the
    // last three only matter for gradients.
    auto* weight = node->input(0);
    auto table = lookup_table(weight);
    if (!table || !is_listed_weight(*table, tables)) return;
    auto& attr = packed[weight];
    if (attr.empty()) {
      attr = fmt::format("{}_{}", kEmbeddingPackedAttr, packed.size() - 1);
      auto params = with_context("packing an int8 embedding table", [&] { return prepack(quantize_embedding_rows(*table)); });
      module.register_attribute(attr, params.type(), params);
    }
    auto* graph = node->owningGraph();
    torch::jit::WithInsertPoint guard(node);
    auto* params = graph->insertNode(graph->createGetAttr(self, attr))->output();
    auto* lookup = graph->create(c10::Symbol::fromQualString("quantized::embedding_byte"),
                                 {params, node->input(1), graph->insertConstant(false)}, 1);
    graph->insertNode(lookup);
    lookup->output()->setType(node->output()->type());
    node->output()->replaceAllUsesWith(lookup->output());
    node->destroy();
    ++rewritten;
  }
};

}  // namespace

at::Tensor quantize_embedding_rows(const at::Tensor& weight) {
  auto w = weight.detach().to(at::kFloat).contiguous();
  auto low = std::get<0>(w.min(1)), high = std::get<0>(w.max(1));
  auto scale = (high - low) / 255.0;
  const float eps = std::numeric_limits<float>::epsilon();
  scale = at::where(scale > eps, scale, at::ones_like(scale));
  // Float zero points: q = round(w / scale - low / scale), so w ~ q * scale + low.
  auto zero_point = -low / scale;
  return at::quantize_per_channel(w, scale.to(at::kDouble), zero_point, 0, at::kQUInt8);
}

std::vector<at::Tensor> embedding_int8_tables(const torch::jit::Module& model,
                                              const std::set<std::string>& float_modules) {
  std::vector<at::Tensor> out;
  for (auto& layer : find_layers(model))
    if (layer.pattern->rewrite == Int8Rewrite::embedding_rows && !float_modules.count(layer.name))
      out.push_back(layer.module.attr("weight").toTensor());
  return out;
}

int rewrite_embeddings_int8(torch::jit::Module& frozen, const std::vector<at::Tensor>& tables) {
  if (tables.empty()) return 0;
  auto graph = frozen.get_method("forward").graph();
  EmbeddingRewriter r{frozen, graph->inputs().at(0), tables};
  r.block(graph->block());
  return r.rewritten;
}

}  // namespace mlopt::quant
