#pragma once
// Builds ONNX graphs: unique value names, nodes with attributes, initializers
// (deduplicated by content), and a stack of subgraphs for If/Loop bodies.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <initializer_list>
#include <string>
#include <unordered_map>
#include <vector>

#include "mlopt/onnx/proto/dtype.h"
#include "mlopt/onnx/proto/node.h"
#include "mlopt/onnx/proto/tensor.h"

namespace mlopt::onnx_export {

// The ONNX protobuf toolkit (proto/) under the names the converters use.
using onnx_proto::Attr;
using onnx_proto::tensor_to_proto;
// ONNX element type of a LibTorch dtype (TensorProto::DataType).
inline onnx::TensorProto_DataType onnx_dtype(c10::ScalarType type) {
  return static_cast<onnx::TensorProto_DataType>(onnx_proto::onnx_type_of(type));
}

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* main) : main_(main) { graphs_.push_back(main); }

  // A fresh name with this stem ("conv", "x" -> "conv_3").
  std::string fresh(const std::string& stem);
  // Adds a node to the innermost graph; returns its output names.
  std::vector<std::string> add(const std::string& op, const std::vector<std::string>& inputs,
                               std::initializer_list<Attr> attrs = {}, int outputs = 1,
                               const std::string& stem = "");
  std::string add1(const std::string& op, const std::vector<std::string>& inputs,
                   std::initializer_list<Attr> attrs = {}, const std::string& stem = "") {
    return add(op, inputs, attrs, 1, stem)[0];
  }
  // Node with attributes given at run time.
  std::vector<std::string> add_node(const std::string& op, const std::vector<std::string>& inputs,
                                    const std::vector<Attr>& attrs, int outputs, const std::string& stem);
  // A constant tensor; initializers live in the main graph (visible in subgraphs)
  // and identical contents share one initializer.
  std::string constant(const at::Tensor& tensor, const std::string& stem = "const");
  std::string ints(const std::vector<int64_t>& values) { return constant(ints_tensor(values), "ints"); }
  std::string scalar_int(int64_t v);
  static at::Tensor ints_tensor(const std::vector<int64_t>& values);

  // Subgraphs (If branches, Loop bodies): nodes go to the innermost one.
  void push_graph(onnx::GraphProto* g) { graphs_.push_back(g); }
  void pop_graph() { graphs_.pop_back(); }
  onnx::GraphProto* current() { return graphs_.back(); }
  onnx::GraphProto* main() { return main_; }

 private:
  onnx::GraphProto* main_;
  std::vector<onnx::GraphProto*> graphs_;
  std::unordered_map<std::string, int> counters_;
  std::unordered_map<std::string, std::string> initializer_by_content_;
  std::unordered_map<std::string, at::Tensor> initializer_tensors_;
};

}  // namespace mlopt::onnx_export
