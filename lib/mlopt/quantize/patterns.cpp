#include "mlopt/quantize/patterns.h"

#include <torch/csrc/jit/api/function_impl.h>

namespace mlopt::quant {

namespace {

c10::optional<at::Tensor> own_tensor(const torch::jit::Module& m, const std::string& name) {
  if (!m.hasattr(name)) return c10::nullopt;
  auto v = m.attr(name);
  if (!v.isTensor()) return c10::nullopt;
  return v.toTensor();
}

// Also inside the TorchScript functions it calls (nn.Embedding calls
// F.embedding, a scripted function, where nn.Linear's F.linear is builtin).
bool block_calls(torch::jit::Block* block, const char* op, int depth = 0) {
  for (auto* node : block->nodes()) {
    if (node->kind().toQualString() == std::string(op)) return true;
    for (auto* sub : node->blocks())
      if (block_calls(sub, op, depth)) return true;
    if (node->kind() == c10::prim::CallFunction && depth < 4) {
      auto fn = node->input(0)->type()->cast<c10::FunctionType>();
      if (fn && fn->function()->isGraphFunction() &&
          block_calls(torch::jit::toGraphFunction(*fn->function()).graph()->block(), op, depth + 1))
        return true;
    }
  }
  return false;
}

// The module's own methods (not its children's) call `op` on its `weight`.
bool uses_weight_in(const torch::jit::Module& m, int64_t rank, const char* op) {
  auto w = own_tensor(m, "weight");
  if (!w || !w->is_floating_point() || w->dim() != rank) return false;
  for (const auto& method : m.get_methods())
    if (block_calls(method.graph()->block(), op)) return true;
  return false;
}

// Recurrent layers own weight_ih_l0 / weight_hh_l0 of [gates * hidden, ...].
int64_t rnn_gates(const torch::jit::Module& m) {
  auto hh = own_tensor(m, "weight_hh_l0");
  if (!hh || hh->dim() != 2 || hh->size(1) == 0) return 0;
  return hh->size(0) / hh->size(1);
}

std::vector<at::Tensor> rnn_weights(const torch::jit::Module& m) {
  std::vector<at::Tensor> out;
  for (const auto& p : m.named_attributes(/*recurse=*/false))
    if (p.name.rfind("weight_", 0) == 0 && p.value.isTensor()) out.push_back(p.value.toTensor());
  return out;
}

std::vector<at::Tensor> the_weight(const torch::jit::Module& m) { return {*own_tensor(m, "weight")}; }

}  // namespace

const std::vector<LayerPattern>& layer_patterns() {
  using R = Int8Rewrite;
  using BN = BatchNormFolding;
  static const std::vector<LayerPattern> table = {
      // kind, static kernel, dynamic kernel, matches, weights, rewrite, per_channel, batch_norm
      {"conv1d", "quantized::conv1d", "", [](const auto& m) { return uses_weight_in(m, 3, "aten::conv1d"); }, the_weight,
       R::graph_passes, true, BN::conv},
      {"conv2d", "quantized::conv2d", "", [](const auto& m) { return uses_weight_in(m, 4, "aten::conv2d"); }, the_weight,
       R::graph_passes, true, BN::conv},
      {"conv3d", "quantized::conv3d", "", [](const auto& m) { return uses_weight_in(m, 5, "aten::conv3d"); }, the_weight,
       R::graph_passes, true, BN::conv},
      // Transposed convolutions: LibTorch's int8 kernels refuse per-channel weights.
      {"conv_transpose1d", "quantized::conv_transpose1d", "",
       [](const auto& m) { return uses_weight_in(m, 3, "aten::conv_transpose1d"); }, the_weight, R::graph_passes, false},
      {"conv_transpose2d", "quantized::conv_transpose2d", "",
       [](const auto& m) { return uses_weight_in(m, 4, "aten::conv_transpose2d"); }, the_weight, R::graph_passes, false},
      // The graph-mode passes have no int8 pattern for it: listed (and kept) in float.
      {"conv_transpose3d", "", "", [](const auto& m) { return uses_weight_in(m, 5, "aten::conv_transpose3d"); },
       the_weight, R::graph_passes, false},
      {"linear", "quantized::linear", "quantized::linear_dynamic",
       [](const auto& m) { return uses_weight_in(m, 2, "aten::linear"); }, the_weight, R::graph_passes, true, BN::linear},
      {"lstm", "", "aten::quantized_lstm", [](const auto& m) { return rnn_gates(m) == 4; }, rnn_weights, R::recurrent},
      {"gru", "", "aten::quantized_gru", [](const auto& m) { return rnn_gates(m) == 3; }, rnn_weights, R::recurrent},
      // Weight-only (the lookup returns float), so static mode quantizes it too; per-row uint8 tables.
      {"embedding", "quantized::embedding_byte", "quantized::embedding_byte",
       [](const auto& m) { return uses_weight_in(m, 2, "aten::embedding"); }, the_weight, R::embedding_rows},
  };
  return table;
}

bool supported_in_mode(const LayerPattern& pattern, const std::string& mode) {
  if (mode == "static") return !pattern.static_kernel.empty();
  if (mode == "dynamic") return !pattern.dynamic_kernel.empty();
  return true;  // fp16 / bf16 store every weight in half precision
}

const LayerPattern* pattern_of(const torch::jit::Module& module) {
  for (const auto& pattern : layer_patterns())
    if (pattern.matches(module)) return &pattern;
  return nullptr;
}

std::vector<Layer> find_layers(const torch::jit::Module& model) {
  std::vector<Layer> out;
  for (const auto& child : model.named_modules())
    if (const auto* pattern = pattern_of(child.value)) out.push_back({child.name, pattern, child.value});
  return out;
}

bool is_listed_weight(const at::Tensor& weight, const std::vector<at::Tensor>& listed) {
  for (const auto& w : listed)
    if (w.sizes() == weight.sizes() && w.scalar_type() == weight.scalar_type() && at::equal(w, weight)) return true;
  return false;
}

}  // namespace mlopt::quant
