#include "mlopt/graph_passes/transformer_lowering.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <map>
#include <vector>

namespace mlopt::graph_passes {

namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

bool is_fused_kernel(const Node* n) {
  static const char* kinds[] = {"aten::_transformer_encoder_layer_fwd", "aten::_native_multi_head_attention",
                                "aten::_transformer_decoder_only_layer_fwd"};
  for (const char* k : kinds)
    if (n->kind().toQualString() == std::string(k)) return true;
  return false;
}

bool is_nested_conversion(const Node* n) {
  return n->kind().toQualString() == std::string("aten::_nested_tensor_from_mask");
}

template <class Pred>
const Node* direct_call(Block* b, Pred pred) {
  for (auto* n : b->nodes())
    if (pred(n)) return n;
  return nullptr;
}

// Two inputs name the same value: one Value, or equal constants.
bool same_input(Value* a, Value* b) {
  if (a == b) return true;
  auto ia = torch::jit::toIValue(a), ib = torch::jit::toIValue(b);
  return ia && ib && !ia->isTensor() && !ib->isTensor() && *ia == *ib;
}

// An in-place op (name ending in '_') writes to the value or its view's metadata.
bool mutated(Value* v) {
  for (const auto& use : v->uses()) {
    std::string name = use.user->kind().toUnqualString();
    if (!name.empty() && name.back() == '_') return true;
  }
  return false;
}

struct Lowering {
  Graph& graph;
  LoweringStats stats;
  std::vector<Value*> padding_masks;  // of the nested-tensor conversions, in graph order
  bool changed = false;

  Value* constant_before(Node* n, bool v) {
    torch::jit::WithInsertPoint guard(n);
    return graph.insertConstant(v);
  }

  // The branch with the fused kernel never runs: its condition is false where
  // it is decided, and so is the "returned early" flag the enclosing blocks
  // pass on (TorchScript's early-return lowering returns the condition itself).
  void fold_fast_path(Node* n, bool fused_in_then) {
    auto* slow = constant_before(n, !fused_in_then);
    auto* cond = n->input(0);
    auto uses = cond->uses();
    for (const auto& use : uses)
      if (use.user == n || use.user->kind() == c10::prim::Return) use.user->replaceInput(use.offset, slow);
    ++stats.fast_paths;
    changed = true;
  }

  // nn.TransformerEncoder: a padded batch becomes a nested tensor (and the
  // output a zero-padded tensor again). Lowered: the batch stays padded, the
  // encoder's "convert back" branch zeroes the padded positions.
  void fold_nested_conversion(Node* n, const Node* conversion, bool in_then) {
    auto* kept = conversion->input(1);  // logical_not(src_key_padding_mask)
    if (kept->node()->kind() != c10::aten::logical_not) return;
    padding_masks.push_back(kept->node()->input(0));
    n->replaceInput(0, constant_before(n, !in_then));
    ++stats.nested_inputs;
    changed = true;
  }

  void fold_if(Node* n) {
    if (n->input(0)->node()->kind() == c10::prim::Constant) return;
    auto* then_block = n->blocks()[0];
    auto* else_block = n->blocks()[1];
    bool fused_then = direct_call(then_block, is_fused_kernel), fused_else = direct_call(else_block, is_fused_kernel);
    if (fused_then != fused_else) return fold_fast_path(n, fused_then);
    auto* nested_then = direct_call(then_block, is_nested_conversion);
    auto* nested_else = direct_call(else_block, is_nested_conversion);
    if (!nested_then != !nested_else) fold_nested_conversion(n, nested_then ? nested_then : nested_else, nested_then);
  }

  // Outputs i and j of an If that both blocks return as one value are one value.
  void merge_if_outputs(Node* n) {
    auto outs = n->outputs();
    for (size_t j = 1; j < outs.size(); ++j)
      for (size_t i = 0; i < j; ++i) {
        bool same = !outs[j]->uses().empty();
        for (auto* b : n->blocks()) same = same && b->outputs()[i] == b->outputs()[j];
        if (!same) continue;
        outs[j]->replaceAllUsesWith(outs[i]);
        changed = true;
        break;
      }
  }

  void block(Block* b) {
    std::map<std::pair<c10::Symbol, Value*>, std::vector<Node*>> views;
    for (auto it = b->nodes().begin(); it != b->nodes().end(); ++it) {
      Node* n = *it;
      for (auto* sub : n->blocks()) block(sub);
      auto kind = n->kind();
      if (kind == c10::prim::If) {
        fold_if(n);
        merge_if_outputs(n);
      } else if ((kind == c10::aten::__is__ || kind == c10::aten::__isnot__) && n->input(0) == n->input(1)) {
        n->output()->replaceAllUsesWith(constant_before(n, kind == c10::aten::__is__));
        changed = true;
      } else if ((kind == c10::aten::unsqueeze || kind == c10::aten::transpose) && !mutated(n->output())) {
        // `query.unsqueeze(1)` taken three times for query, key and value is one tensor.
        auto& earlier = views[{kind, n->input(0)}];
        for (auto* e : earlier) {
          bool same = e->inputs().size() == n->inputs().size();
          for (size_t i = 1; same && i < n->inputs().size(); ++i) same = same_input(e->input(i), n->input(i));
          if (!same) continue;
          n->output()->replaceAllUsesWith(e->output());
          changed = true;
          break;
        }
        earlier.push_back(n);
      }
    }
  }

  void collect(Block* b, c10::Symbol kind, std::vector<Node*>& out) {
    for (auto* n : b->nodes()) {
      if (n->kind() == kind) out.push_back(n);
      for (auto* sub : n->blocks()) collect(sub, kind, out);
    }
  }

  // The k-th nested conversion's to_padded_tensor(x, 0.) becomes
  // x.masked_fill(padding_mask != 0 [..., None], 0.).
  void zero_padded_positions() {
    std::vector<Node*> to_padded;
    collect(graph.block(), c10::Symbol::fromQualString("aten::to_padded_tensor"), to_padded);
    for (size_t k = 0; k < to_padded.size() && k < padding_masks.size(); ++k) {
      Node* n = to_padded[k];
      Value* mask = padding_masks[k];
      torch::jit::WithInsertPoint guard(n);
      if (!n->isDominatedBy(mask->node()) && mask->node()->kind() == c10::prim::unchecked_cast &&
          n->isDominatedBy(mask->node()->input(0)->node())) {
        auto* cast = graph.insertNode(graph.create(c10::prim::unchecked_cast, {mask->node()->input(0)}));
        cast->output()->setType(mask->type());
        mask = cast->output();
      }
      if (!n->isDominatedBy(mask->node()) && mask->node()->kind() != c10::prim::Param) continue;
      auto* padded = graph.insert(c10::aten::ne, {mask, 0});
      auto* column = graph.insert(c10::aten::unsqueeze, {padded, -1});
      auto* filled = graph.insert(c10::aten::masked_fill, {n->input(0), column, n->input(1)});
      n->output()->replaceAllUsesWith(filled);
      n->destroy();
    }
  }
};

bool calls_fused(Block* b) {
  for (auto* n : b->nodes()) {
    if (is_fused_kernel(n) || is_nested_conversion(n)) return true;
    for (auto* sub : n->blocks())
      if (calls_fused(sub)) return true;
  }
  return false;
}

}  // namespace

LoweringStats lower_transformer_fast_paths(const std::shared_ptr<Graph>& graph) {
  Lowering l{*graph};
  auto g = graph;
  for (int round = 0; round < 16; ++round) {
    l.changed = false;
    l.block(graph->block());
    if (!l.changed) break;
    if (round == 0) l.zero_padded_positions();
    torch::jit::ConstantPropagation(g);
    torch::jit::EliminateDeadCode(g);
  }
  return l.stats;
}

bool calls_fused_transformer(const std::shared_ptr<Graph>& graph) { return calls_fused(graph->block()); }

}  // namespace mlopt::graph_passes
