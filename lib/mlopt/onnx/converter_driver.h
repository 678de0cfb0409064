#pragma once
// Walks a lowered graph block by block, folding constant nodes and handing the
// others to their registered converters. Unsupported ops are collected (kind,
// count, source locations) so that one error lists all of them.
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {

class Converter {
 public:
  Converter(GraphBuilder& builder, const ShapeInfo& shapes, int opset)
      : builder_(builder), shapes_(shapes), opset_(opset) {}

  GraphBuilder& builder() { return builder_; }
  const ShapeInfo& shapes() const { return shapes_; }
  int opset() const { return opset_; }

  void convert_block(const torch::jit::Block* block);
  void convert_node(const torch::jit::Node* node);

  ValPtr get(const torch::jit::Value* v) const;
  void set(const torch::jit::Value* v, ValPtr val) { env_[v] = std::move(val); }
  bool has(const torch::jit::Value* v) const { return env_.count(v) != 0; }

  // Shape(x), computed once per value and graph.
  std::string shape_of(const std::string& x);

  // A fresh subgraph (If branch, Loop body) that lives as long as the converter.
  onnx::GraphProto* new_subgraph() {
    subgraphs_.push_back(std::make_unique<onnx::GraphProto>());
    return subgraphs_.back().get();
  }

  // Unsupported ops seen so far: kind -> source locations (one per node).
  const std::map<std::string, std::vector<std::string>>& unsupported() const { return unsupported_; }

 private:
  bool try_fold(const torch::jit::Node* node);
  void mark_unsupported(const torch::jit::Node* node, const std::string& why);

  GraphBuilder& builder_;
  const ShapeInfo& shapes_;
  int opset_;
  std::unordered_map<const torch::jit::Value*, ValPtr> env_;
  std::map<std::pair<const void*, std::string>, std::string> shape_cache_;
  std::map<std::string, std::vector<std::string>> unsupported_;
  std::vector<std::unique_ptr<onnx::GraphProto>> subgraphs_;
};

// Source location "file.py:12" of a node, or "" when unknown.
std::string source_location(const torch::jit::Node* node);

}  // namespace mlopt::onnx_export
