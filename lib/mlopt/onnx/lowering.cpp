#include "mlopt/onnx/lowering.h"

#include <torch/csrc/jit/passes/constant_pooling.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_conv_folding.h>
#include <torch/csrc/jit/passes/graph_rewrite_helper.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/remove_dropout.h>
#include <torch/csrc/jit/passes/remove_mutation.h>

#include <chrono>
#include <tuple>
#include <vector>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/onnx/view_mutation.h"
#include "mlopt/graph_passes/transformer_lowering.h"

namespace mlopt::onnx_export {

using torch::jit::Graph;
using torch::jit::Node;

namespace {

c10::optional<at::Tensor> constant_tensor(torch::jit::Value* v) {
  auto iv = torch::jit::toIValue(v);
  if (!iv || !iv->isTensor()) return c10::nullopt;
  return iv->toTensor();
}

void fold_linear_batchnorm_in(Graph& graph, torch::jit::Block* block) {
  for (auto it = block->nodes().begin(); it != block->nodes().end(); ++it) {
    Node* bn = *it;
    for (auto* sub : bn->blocks()) fold_linear_batchnorm_in(graph, sub);
    if (bn->kind() != c10::aten::batch_norm) continue;
    Node* linear = bn->input(0)->node();
    if (linear->kind() != c10::aten::linear || linear->output()->uses().size() != 1) continue;
    auto w = constant_tensor(linear->input(1));
    auto training = torch::jit::toIValue(bn->input(5));
    auto mean = constant_tensor(bn->input(3)), var = constant_tensor(bn->input(4));
    auto eps = torch::jit::toIValue(bn->input(7));
    if (!w || !mean || !var || !training || training->toBool() || !eps) continue;
    // Only BatchNorm1d over (N, C) features: the channel is the linear output feature.
    if (bn->input(0)->type()->cast<c10::TensorType>() &&
        bn->input(0)->type()->expectRef<c10::TensorType>().dim().value_or(2) != 2)
      continue;
    auto b = constant_tensor(linear->input(2));
    auto gamma = constant_tensor(bn->input(1)), beta = constant_tensor(bn->input(2));
    at::Tensor scale = (gamma ? *gamma : at::ones_like(*mean)) / at::sqrt(*var + eps->toDouble());
    at::Tensor new_w = *w * scale.unsqueeze(1);
    at::Tensor new_b = ((b ? *b : at::zeros_like(*mean)) - *mean) * scale + (beta ? *beta : at::zeros_like(*mean));
    torch::jit::WithInsertPoint guard(linear);
    linear->replaceInput(1, graph.insertConstant(new_w));
    linear->replaceInput(2, graph.insertConstant(new_b));
    bn->output()->replaceAllUsesWith(linear->output());
  }
}

void retype_none_constants_in(torch::jit::Block* block) {
  for (Node* node : block->nodes()) {
    for (auto* sub : node->blocks()) retype_none_constants_in(sub);
    if (node->kind() != c10::prim::Constant || node->hasAttribute(c10::attr::value)) continue;
    if (node->output()->type()->kind() == c10::TypeKind::OptionalType) node->output()->setType(c10::NoneType::get());
  }
}

// Puts a module and its submodules in eval mode for its lifetime, then gives
// each its own `training` flag back (train()/eval() would set one for all).
class EvalModeScope {
 public:
  explicit EvalModeScope(const torch::jit::Module& module) {
    for (const auto& m : module.modules()) {
      auto slot = m._ivalue()->type()->findAttributeSlot("training");
      if (!slot) continue;
      saved_.emplace_back(m._ivalue(), *slot, m._ivalue()->getSlot(*slot));
      m._ivalue()->setSlot(*slot, false);
    }
  }
  ~EvalModeScope() {
    for (auto& [object, slot, value] : saved_) object->setSlot(slot, value);
  }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  std::vector<std::tuple<c10::intrusive_ptr<c10::ivalue::Object>, size_t, c10::IValue>> saved_;
};

bool certainly_throws(const torch::jit::Block* block) {
  for (const Node* n : block->nodes())
    if (n->kind() == c10::prim::RaiseException) return true;
  return false;
}

// LibTorch's EliminateExceptions replaces every use of a checked condition
// with a new constant, and loops forever when a second check reads the
// constant the first one put there (two `if cond: raise` on one condition, as
// scripted F.interpolate has): here each If gets its own constant condition.
void eliminate_exception_branches(Graph& graph, torch::jit::Block* block) {
  for (Node* n : block->nodes()) {
    if (n->kind() == c10::prim::If && n->input(0)->node()->kind() != c10::prim::Constant) {
      bool then_throws = certainly_throws(n->blocks()[0]), else_throws = certainly_throws(n->blocks()[1]);
      if (then_throws != else_throws) {
        torch::jit::WithInsertPoint guard(n);
        n->replaceInput(0, graph.insertConstant(c10::IValue(else_throws)));
      }
    }
    for (auto* sub : n->blocks()) eliminate_exception_branches(graph, sub);
  }
}

// nn.TransformerEncoder's "is the padding mask left-aligned" test only
// chooses between the nested-tensor path and the unfused one; once the nested
// path is lowered both compute the same, so the test is answered "yes" and folds away.
void answer_left_aligned_checks(Graph& graph, torch::jit::Block* block) {
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    Node* n = *it++;
    for (auto* sub : n->blocks()) answer_left_aligned_checks(graph, sub);
    if (n->kind().toQualString() != std::string("aten::_nested_tensor_from_mask_left_aligned")) continue;
    torch::jit::WithInsertPoint guard(n);
    n->output()->replaceAllUsesWith(graph.insertConstant(c10::IValue(true)));
    n->destroy();
  }
}

bool is_nested_conversion(const Node* n) {
  return n->kind().toQualString() == std::string("aten::_nested_tensor_from_mask");
}

bool has_nested_conversion(torch::jit::Block* block) {
  for (Node* n : block->nodes()) {
    if (is_nested_conversion(n)) return true;
    for (auto* sub : n->blocks())
      if (has_nested_conversion(sub)) return true;
  }
  return false;
}

// nn.TransformerEncoder's `convert_to_nested`: the condition of the If that
// converts the padded batch (and of the one that converts it back), with the
// value that takes the conversion. Decided at run time from the grad mode,
// autocast and the device, which inference in ONNX fixes: the conversion
// (after lowering: the zeroing of the padded positions) is what eval-mode
// inference does.
void collect_nested_conditions(torch::jit::Block* block, std::vector<std::pair<torch::jit::Value*, bool>>& out) {
  for (Node* n : block->nodes()) {
    if (n->kind() == c10::prim::If)
      for (size_t b = 0; b < 2; ++b)
        for (Node* inner : n->blocks()[b]->nodes())
          if (is_nested_conversion(inner)) out.emplace_back(n->input(0), b == 0);
    for (auto* sub : n->blocks()) collect_nested_conditions(sub, out);
  }
}

bool still_in(torch::jit::Block* block, const torch::jit::Value* v) {
  for (auto* in : block->inputs())
    if (in == v) return true;
  for (Node* n : block->nodes()) {
    for (auto* o : n->outputs())
      if (o == v) return true;
    for (auto* sub : n->blocks())
      if (still_in(sub, v)) return true;
  }
  return false;
}

}  // namespace

// A None constant typed Optional[T] (left by graph surgery such as channel
// pruning's attribute folding) reads as "maybe a tensor" to PyTorch's
// conv/BatchNorm folding, which then fails on it: give it NoneType.
void retype_none_constants(std::shared_ptr<Graph>& graph) { retype_none_constants_in(graph->block()); }

// Linear followed by an eval-mode BatchNorm1d becomes one linear.
void fold_linear_batchnorm(std::shared_ptr<Graph>& graph) {
  fold_linear_batchnorm_in(*graph, graph->block());
  torch::jit::EliminateDeadCode(graph);
}

// Dropout (any flavour, train=False) is the identity at inference; shape
// checks that raise are assumed to pass (PyTorch's exporter does the same).
void remove_training_ops(std::shared_ptr<Graph>& graph) {
  torch::jit::removeDropout(graph);
  eliminate_exception_branches(*graph, graph->block());
}

std::shared_ptr<Graph> lower_for_export(const torch::jit::Module& module) {
  return with_context("lowering the module", [&] {
    auto t0 = std::chrono::steady_clock::now();
    auto lap = [&](const char* step) {
      auto now = std::chrono::steady_clock::now();
      log::debug("export-onnx:   lowering {:<14} {:8.1f} ms", step, std::chrono::duration<double, std::milli>(now - t0).count());
      t0 = now;
    };
    // 1. Freeze: parameters and attributes become constants; methods are inlined.
    //    freeze_module works on its own shallow clone (the tensors are shared,
    //    never written), so no deep copy of the weights is made here; it needs
    //    eval mode, which is set for the freeze and then given back.
    std::shared_ptr<Graph> graph;
    {
      EvalModeScope eval_mode(module);
      torch::jit::Module frozen = torch::jit::freeze_module(module);
      graph = frozen.get_method("forward").graph()->copy();
    }
    lap("freeze");
    // 2. Inline what freezing left (calls to free functions).
    torch::jit::Inline(*graph);
    // 3. Training-only ops and exception branches go; torchvision's batched_nms
    //    takes its one-NMS branch (torchvision_lowering.cpp).
    remove_training_ops(graph);
    choose_batched_nms_coordinate_trick(graph);
    // 4. In-place ops become functional where that is provably safe, and
    //    writes into slices go back into the tensor they view (view_mutation.h).
    torch::jit::RemoveListMutation(graph);
    torch::jit::RemoveTensorMutation(graph);
    write_back_view_mutations(graph);
    // 5. Dead code, then constants.
    torch::jit::EliminateDeadCode(graph);
    lap("cleanup");
    torch::jit::ConstantPropagation(graph);
    lap("const prop");
    torch::jit::ConstantPooling(graph);
    lap("const pooling");
    // 6. BatchNorm folds into the convolution or linear layer before it
    //    (traced graphs use aten::_convolution: normalize to aten::convNd first).
    retype_none_constants(graph);
    torch::jit::graph_rewrite_helper::replaceConvolutionWithAtenConv(graph);
    torch::jit::FoldFrozenConvBatchnorm(graph);
    fold_linear_batchnorm(graph);
    lap("bn folding");
    // 7. Tuples that only carry values between nodes disappear.
    torch::jit::LowerSimpleTuples(graph);
    torch::jit::ConstantPropagation(graph);
    torch::jit::EliminateDeadCode(graph);
    lap("tuples");
    // 8. Fused fast-path ops (aten::_transformer_encoder_layer_fwd,
    //    aten::_native_multi_head_attention) are decomposed by their converters
    //    in ops/transformer.cpp, where their weights are at hand. A padded
    //    batch that nn.TransformerEncoder turns into a nested tensor (a key
    //    padding mask in eval mode) has no ONNX form: that encoder is lowered to
    //    its unfused path with the mask (graph_passes/transformer_lowering.h).
    if (has_nested_conversion(graph->block())) {
      std::vector<std::pair<torch::jit::Value*, bool>> conditions;
      collect_nested_conditions(graph->block(), conditions);
      auto stats = mlopt::graph_passes::lower_transformer_fast_paths(graph);
      answer_left_aligned_checks(*graph, graph->block());
      for (const auto& [cond, taken] : conditions) {
        if (!still_in(graph->block(), cond) || cond->node()->kind() == c10::prim::Constant ||
            cond->node()->kind() == c10::prim::Param)
          continue;
        torch::jit::WithInsertPoint guard(cond->node()->next());
        cond->replaceAllUsesWith(graph->insertConstant(c10::IValue(taken)));
      }
      log::debug("export-onnx: {} nested-tensor conversion(s) and {} fused branch(es) lowered to the unfused path",
                 stats.nested_inputs, stats.fast_paths);
      torch::jit::ConstantPropagation(graph);
      torch::jit::EliminateDeadCode(graph);
      lap("nested tensors");
    }
    return graph;
  });
}

}  // namespace mlopt::onnx_export
