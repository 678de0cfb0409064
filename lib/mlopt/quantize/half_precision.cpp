#include "mlopt/quantize/half_precision.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/freeze_module.h>

#include "mlopt/core/error.h"

namespace mlopt::quant {

namespace {

int64_t convert_constants(torch::jit::Block* block, at::ScalarType half) {
  int64_t converted = 0;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    torch::jit::Node* node = *it++;
    for (auto* sub : node->blocks()) converted += convert_constants(sub, half);
    if (node->kind() != c10::prim::Constant || !node->output()->type()->isSubtypeOf(*c10::TensorType::get())) continue;
    auto value = torch::jit::toIValue(node->output());
    if (!value || !value->isTensor()) continue;
    auto tensor = value->toTensor();
    // Scalars and tiny tensors are not worth a cast node.
    if (tensor.scalar_type() != at::kFloat || tensor.numel() < 16) continue;
    auto* graph = node->owningGraph();
    torch::jit::WithInsertPoint guard(node);
    auto* stored = graph->insertConstant(tensor.to(half));
    auto* restored = graph->insert(c10::Symbol::fromQualString("aten::to"),
                                   {stored, static_cast<int64_t>(at::kFloat)});
    node->output()->replaceAllUsesWith(restored);
    node->destroy();
    ++converted;
  }
  return converted;
}

}  // namespace

HalfResult store_in_half(const torch::jit::Module& model, const std::string& mode) {
  auto half = mode == "bf16" ? at::kBFloat16 : at::kHalf;
  auto clone = model.clone();
  clone.eval();
  HalfResult result;
  result.module = with_context("freezing the model", [&] { return torch::jit::freeze_module(clone); });
  auto graph = result.module.get_method("forward").graph();
  result.tensors_converted = convert_constants(graph->block(), half);
  return result;
}

}  // namespace mlopt::quant
