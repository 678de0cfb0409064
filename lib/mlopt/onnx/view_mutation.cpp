#include "mlopt/onnx/view_mutation.h"

#include <torch/csrc/jit/ir/ir.h>

#include <set>
#include <string>
#include <vector>

#include "mlopt/core/error.h"
#include "mlopt/onnx/block_nesting.h"

namespace mlopt::onnx_export {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

bool is_tensor(const Value* v) { return v->type()->kind() == c10::TypeKind::TensorType; }

// Views whose writes are put back (slice and select of a tensor).
bool is_scatterable_view(const Node* n) {
  return (n->kind() == c10::aten::slice || n->kind() == c10::aten::select) && is_tensor(n->input(0)) &&
         is_tensor(n->output());
}

// Other ops whose result shares memory with their first input.
bool is_other_view(const Node* n) {
  static const std::set<std::string> views = {
      "aten::view",     "aten::reshape", "aten::transpose", "aten::permute",  "aten::t",         "aten::unsqueeze",
      "aten::squeeze",  "aten::expand",  "aten::expand_as", "aten::narrow",   "aten::as_strided", "aten::diagonal",
      "aten::unfold",   "aten::flatten", "aten::view_as",   "aten::unflatten", "aten::movedim",  "aten::swapaxes",
      "aten::detach",   "aten::alias",   "aten::split",     "aten::chunk",    "aten::unbind",    "aten::real"};
  return views.count(n->kind().toQualString()) > 0;
}

// aten::add_ -> aten::add; only tensor ops that write their first input.
bool is_in_place(const Node* n) {
  const std::string name = n->kind().toQualString();
  return n->kind().is_aten() && name.size() > 7 && name.back() == '_' && name.compare(name.size() - 2, 2, "__") != 0 &&
         n->inputs().size() > 0 && is_tensor(n->input(0));
}

// A node of `kind` over exactly these inputs, with the overload their types
// match (not one reached by implicit conversions), at the insertion point; null
// when no overload matches.
Node* same_inputs_node(Graph& graph, c10::Symbol kind, const std::vector<Value*>& inputs, const c10::TypePtr& type) {
  Node* node = graph.insertNode(graph.create(kind, inputs, 1));
  node->output()->setType(type);
  if (node->maybeSchema()) return node;
  node->destroy();
  return nullptr;
}

// The functional form of the in-place node, computed on its view.
Value* functional_result(Graph& graph, Node* n) {
  const std::string name = n->kind().toQualString();
  if (n->kind() == c10::aten::copy_) {
    // view.copy_(src): src broadcast to the view's shape, in the view's dtype.
    Value* expanded = graph.insert(c10::aten::expand_as, {n->input(1), n->input(0)});
    return graph.insert(c10::aten::type_as, {expanded, n->input(0)});
  }
  Node* f = same_inputs_node(graph, c10::Symbol::fromQualString(name.substr(0, name.size() - 1)),
                             {n->inputs().begin(), n->inputs().end()}, n->output()->type());
  if (!f) fail("{} on a slice of a tensor is not supported (no functional form of it to write back)", name);
  return f->output();
}

bool used_after(const Value* v, const Node* n) {
  for (const auto& use : v->uses())
    if (n->isBefore(use.user)) return true;
  return false;
}

// The value `base` (made in an enclosing block) has in `block`, carried through
// every loop between them: the loop takes it as one more carried value, its body
// returns it, and reads after the loop read the loop's result. Aliasing makes
// this exact in TorchScript (the carried value is the same tensor), and it puts
// the base in the writer's block, where the write becomes functional. Null when
// a branch (prim::If) lies between: an If has no block inputs to carry it.
Value* carried_into(Block* block, Value* base) {
  if (base->node()->owningBlock() == block) return base;
  Node* owner = block->owningNode();
  if (!owner || owner->kind() != c10::prim::Loop) return nullptr;
  Value* outer = carried_into(owner->owningBlock(), base);
  if (!outer) return nullptr;
  Value* param = block->addInput()->setType(outer->type());
  std::vector<torch::jit::Use> uses = outer->uses();
  for (const auto& use : uses)
    if (nested_in(use.user, block)) use.user->replaceInput(use.offset, param);
  block->registerOutput(param);
  owner->addInput(outer);
  Value* result = owner->addOutput()->setType(outer->type());
  outer->replaceAllUsesAfterNodeWith(owner, result);
  return param;
}

// Rewrites one in-place node whose first input is a slice/select chain.
void write_back(Graph& graph, Node* n) {
  std::vector<Node*> chain;  // from the view up to the node nearest the base
  for (Value* v = n->input(0); is_scatterable_view(v->node()); v = v->node()->input(0)) chain.push_back(v->node());
  Value* base = chain.back()->input(0);
  bool views_here = true;
  for (Node* view : chain) views_here = views_here && view->owningBlock() == n->owningBlock();
  // `batched[i, :h, :w].copy_(img)` in a loop (torchvision's batch_images).
  if (views_here && base->node()->owningBlock() != n->owningBlock() && used_after(base, n))
    if (Value* local = carried_into(n->owningBlock(), base)) base = local;
  bool same_block = views_here && base->node()->owningBlock() == n->owningBlock();
  if (!same_block) {
    if (!used_after(base, n)) return;  // nobody reads the write: the in-place converter's rebinding is exact
    fail("{} writes into a slice of a tensor made outside the loop or branch it runs in: not supported; write "
         "the slice out of place (torch.cat or a mask)",
         n->kind().toQualString());
  }
  torch::jit::WithInsertPoint guard(n->next());
  Value* updated = functional_result(graph, n);
  n->output()->replaceAllUsesWith(updated);
  // Later reads of each view of the chain see the write, then the level above it.
  for (Node* view : chain) {
    Value* viewed = view->output();
    viewed->replaceAllUsesAfterNodeWith(updated->node(), updated);
    std::vector<Value*> args = {view->input(0), updated};
    for (size_t i = 1; i < view->inputs().size(); ++i) args.push_back(view->input(i));
    const auto scatter = view->kind() == c10::aten::slice ? c10::aten::slice_scatter : c10::aten::select_scatter;
    Node* written = same_inputs_node(graph, scatter, args, view->input(0)->type());
    if (!written) fail("{}: cannot write back into the {} it changes", n->kind().toQualString(), view->kind().toQualString());
    updated = written->output();
  }
  base->replaceAllUsesAfterNodeWith(updated->node(), updated);
  n->destroy();
}

void rewrite_block(Graph& graph, Block* block) {
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    Node* n = *it++;
    for (Block* sub : n->blocks()) rewrite_block(graph, sub);
    if (!is_in_place(n)) continue;
    Node* producer = n->input(0)->node();
    if (is_scatterable_view(producer)) {
      write_back(graph, n);
    } else if (is_other_view(producer) && used_after(producer->input(0), n)) {
      fail("{} writes into the result of {} (a view of another tensor): in-place ops on such views are not "
           "supported; write it out of place (y = y.{}(...))",
           n->kind().toQualString(), producer->kind().toQualString(),
           std::string(n->kind().toUnqualString()).substr(0, std::string(n->kind().toUnqualString()).size() - 1));
    }
  }
}

}  // namespace

void write_back_view_mutations(std::shared_ptr<Graph>& graph) { rewrite_block(*graph, graph->block()); }

}  // namespace mlopt::onnx_export
