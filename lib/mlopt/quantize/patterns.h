#pragma once
// The pattern table: which layers quantize how. One entry per layer kind; a
// module matches by the parameters it owns (so TorchScript modules from any
// front end match, not only torch.nn class names).
#include <torch/script.h>

#include <functional>
#include <string>
#include <vector>

namespace mlopt::quant {

// How a layer's int8 form is made: the rewrite behind its pattern.
enum class Int8Rewrite {
  graph_passes,    // LibTorch's graph-mode passes (int8_passes.h)
  recurrent,       // after the passes: prepacked int8 cell parameters (rnn_dynamic.h)
  embedding_rows,  // after the passes: per-row uint8 tables with float scale and offset (embedding_int8.h)
};

// Whether a BatchNorm right after the layer folds into its weights (fold_batch_norm.h).
enum class BatchNormFolding {
  none,
  conv,    // always: weights [out, in, k...]
  linear,  // only where linear folding is asked for: weights [out, in]
};

struct LayerPattern {
  std::string kind;            // conv1d | conv2d | conv3d | conv_transpose1d/2d/3d | linear | lstm | gru | embedding
  std::string static_kernel;   // quantized op used by static int8 ("" = none)
  std::string dynamic_kernel;  // quantized op used by dynamic int8 ("" = none)
  std::function<bool(const torch::jit::Module&)> matches;
  // The weight matrices that int8 stores (for the per-layer weight error).
  std::function<std::vector<at::Tensor>(const torch::jit::Module&)> weights;
  Int8Rewrite rewrite = Int8Rewrite::graph_passes;
  // The int8 kernel takes per-channel weights; false (transposed
  // convolutions): per-tensor weights even where the rest is per channel.
  bool per_channel = true;
  BatchNormFolding batch_norm = BatchNormFolding::none;
};

const std::vector<LayerPattern>& layer_patterns();

struct Layer {
  std::string name;  // module path
  const LayerPattern* pattern = nullptr;
  torch::jit::Module module;
};
// Every module of `model` that matches a pattern, in module order.
std::vector<Layer> find_layers(const torch::jit::Module& model);
bool supported_in_mode(const LayerPattern& pattern, const std::string& mode);
// The pattern `module` matches, or nullptr.
const LayerPattern* pattern_of(const torch::jit::Module& module);

// Whether `weight` (a graph constant after freezing) holds the same values, shape
// and dtype as one of `listed` (weights a pattern's `weights` returned): freezing
// copies parameters into constants, so identity is by value.
bool is_listed_weight(const at::Tensor& weight, const std::vector<at::Tensor>& listed);

}  // namespace mlopt::quant
