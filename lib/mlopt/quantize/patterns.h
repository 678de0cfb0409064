#pragma once
// The pattern table: which layers quantize how. One entry per layer kind; a
// module matches by the parameters it owns (so TorchScript modules from any
// front end match, not only torch.nn class names).
#include <torch/script.h>

#include <functional>
#include <string>
#include <vector>

namespace mlopt::quant {

struct LayerPattern {
  std::string kind;            // conv1d | conv2d | conv3d | conv_transpose1d/2d/3d | linear | lstm | gru | embedding
  std::string static_kernel;   // quantized op used by static int8 ("" = none)
  std::string dynamic_kernel;  // quantized op used by dynamic int8 ("" = none)
  std::function<bool(const torch::jit::Module&)> matches;
  // The weight matrices that int8 stores (for the per-layer weight error).
  std::function<std::vector<at::Tensor>(const torch::jit::Module&)> weights;
  // int8 stores each weight row as uint8 with its own float scale and offset
  // (embedding tables) rather than symmetric int8.
  bool row_affine = false;
  // The int8 kernel takes per-tensor weights only (transposed convolutions):
  // the layer gets per-tensor weights even where the rest is per channel.
  bool per_tensor_only = false;
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

}  // namespace mlopt::quant
