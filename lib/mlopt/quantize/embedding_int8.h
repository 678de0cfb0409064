#pragma once
// Int8 embeddings: aten::embedding over a float weight table becomes
// quantized::embedding_byte over a prepacked table of per-row uint8 weights
// (quint8, per_channel_affine_float_qparams on axis 0, packed by
// quantized::embedding_bag_prepack): the kernel torch.ao.nn.quantized.Embedding
// runs. Weight-only: the lookup returns float, so it fits dynamic and static
// modes alike.
#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

namespace mlopt::quant {

// A [rows, dim] float table as per-row uint8 with a float scale and offset per
// row (scale = (max - min) / 255, as PyTorch's float-qparams observer chooses).
at::Tensor quantize_embedding_rows(const at::Tensor& weight);

// The weight tables of the embedding layers (pattern "embedding") not listed in
// `float_modules`: the ones to store in int8.
std::vector<at::Tensor> embedding_int8_tables(const torch::jit::Module& model,
                                              const std::set<std::string>& float_modules);

// Rewrites the aten::embedding calls of a frozen module's forward (their
// weights are graph constants) that look up one of `tables`; returns how many
// were rewritten. Lookups of any other table (a layer kept in float, a table
// the pattern table does not know) stay float.
int rewrite_embeddings_int8(torch::jit::Module& frozen, const std::vector<at::Tensor>& tables);

}  // namespace mlopt::quant
