#pragma once
// Builds ONNX graphs: unique value names, nodes with attributes, initializers
// (deduplicated by content), and a stack of subgraphs for If/Loop bodies.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <initializer_list>
#include <string>
#include <unordered_map>
#include <vector>

namespace mlopt::onnx_export {

// One attribute: AttrValue{"axis", int64_t{1}}, {"perm", std::vector<int64_t>{...}}, ...
struct Attr {
  std::string name;
  onnx::AttributeProto proto;
  Attr(std::string n, int64_t v);
  Attr(std::string n, int v) : Attr(std::move(n), int64_t{v}) {}
  Attr(std::string n, float v);
  Attr(std::string n, double v) : Attr(std::move(n), static_cast<float>(v)) {}
  Attr(std::string n, const std::string& v);
  Attr(std::string n, const char* v) : Attr(std::move(n), std::string(v)) {}
  Attr(std::string n, const std::vector<int64_t>& v);
  Attr(std::string n, const std::vector<float>& v);
  Attr(std::string n, const std::vector<std::string>& v);
  Attr(std::string n, const onnx::TensorProto& v);
  Attr(std::string n, const onnx::GraphProto& g);
};

onnx::TensorProto_DataType onnx_dtype(c10::ScalarType type);
// Tensor -> TensorProto (raw data, little endian, contiguous).
onnx::TensorProto to_tensor_proto(const at::Tensor& tensor, const std::string& name);

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
