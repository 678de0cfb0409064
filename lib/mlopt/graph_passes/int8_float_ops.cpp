#include "mlopt/graph_passes/int8_float_ops.h"

#include <torch/csrc/jit/ir/ir.h>

#include <set>
#include <string>
#include <vector>

namespace mlopt::graph_passes {
namespace {

using torch::jit::Node;
using torch::jit::Value;

// Ops that hand on an int8 input as int8 (their output is quantized when their input is).
const std::set<std::string>& int8_preserving_ops() {
  static const std::set<std::string> ops = {"aten::relu",    "aten::relu_",   "aten::contiguous", "aten::reshape",
                                            "aten::view",    "aten::flatten", "aten::permute",    "aten::hardtanh",
                                            "aten::hardtanh_", "aten::max_pool2d", "aten::max_pool3d", "aten::dropout",
                                            "aten::avg_pool3d"};
  return ops;
}

// The node that made `value` an int8 tensor (an int8 kernel or a quantize),
// perhaps through ops that keep it int8; null when it is not int8.
Node* int8_origin(Value* value, int depth = 0) {
  if (depth > 16) return nullptr;
  Node* producer = value->node();
  const std::string kind = producer->kind().toQualString();
  if (kind.rfind("quantized::", 0) == 0 || kind == "aten::quantize_per_tensor" ||
      kind == "aten::quantize_per_channel")
    return producer;
  if (int8_preserving_ops().count(kind) && !producer->inputs().empty()) return int8_origin(producer->input(0), depth + 1);
  return nullptr;
}

// Ops with no int8 kernel in LibTorch 1.13 that keep their input's range
// (their float result requantized with the input's parameters is what an int8
// kernel gives): max_pool3d always; mean where the int8 input came from a 3-D
// kernel (its channels-last-3d int8 tensor reduced to fewer dims fails with
// "required rank 5 tensor to use channels_last_3d format": S3D's last mean).
// The input's origin is looked up only for these ops.
bool runs_float_on_int8(Node* node) {
  const std::string kind = node->kind().toQualString();
  if (kind != "aten::max_pool3d" && kind != "aten::mean") return false;
  Node* origin = int8_origin(node->input(0));
  if (!origin) return false;
  return kind == "aten::max_pool3d" || std::string(origin->kind().toQualString()).find("3d") != std::string::npos;
}

void collect(torch::jit::Block* block, std::vector<Node*>& found) {
  for (auto* node : block->nodes()) {
    for (auto* sub : node->blocks()) collect(sub, found);
    if (!node->inputs().empty() && node->outputs().size() == 1 && runs_float_on_int8(node)) found.push_back(node);
  }
}

Value* insert_call(torch::jit::Graph& graph, const char* op, std::vector<Value*> inputs, const c10::TypePtr& type) {
  auto* node = graph.insertNode(graph.create(c10::Symbol::fromQualString(op), inputs, 1));
  node->output()->setType(type);
  return node->output();
}

}  // namespace

int float_ops_on_int8_inputs(torch::jit::Graph& graph) {
  std::vector<Node*> found;
  collect(graph.block(), found);
  for (auto* node : found) {
    Value* x = node->input(0);
    Value *scale = nullptr, *zero_point = nullptr, *dtype = nullptr;
    {
      torch::jit::WithInsertPoint before(node);
      scale = insert_call(graph, "aten::q_scale", {x}, c10::FloatType::get());
      zero_point = insert_call(graph, "aten::q_zero_point", {x}, c10::IntType::get());
      dtype = insert_call(graph, "prim::dtype", {x}, c10::IntType::get());
      node->replaceInput(0, insert_call(graph, "aten::dequantize", {x}, x->type()));
    }
    torch::jit::WithInsertPoint after(node->next());
    Value* y = node->output();
    Value* requantized = insert_call(graph, "aten::quantize_per_tensor", {y, scale, zero_point, dtype}, y->type());
    y->replaceAllUsesAfterNodeWith(requantized->node(), requantized);
  }
  return static_cast<int>(found.size());
}

}  // namespace mlopt::graph_passes
