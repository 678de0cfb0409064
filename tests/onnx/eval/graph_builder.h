#pragma once
// Builds small ONNX graphs in C++ (protobuf API) for the evaluator's tests.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <string>
#include <vector>

#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/onnx/proto/dtype.h"
#include "mlopt/onnx/proto/tensor.h"

namespace mlopt::test {

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 17) {
    model_.set_ir_version(8);
    auto* imp = model_.add_opset_import();
    imp->set_domain("");
    imp->set_version(opset);
    graph_ = model_.mutable_graph();
    graph_->set_name("test");
  }
  // A graph input typed and shaped like `example`; `dims` overrides with symbolic names ("" = fixed).
  GraphBuilder& input(const std::string& name, const at::Tensor& example, std::vector<std::string> dim_params = {}) {
    add_value_info(graph_->add_input(), name, example, dim_params);
    return *this;
  }
  GraphBuilder& init(const std::string& name, const at::Tensor& value) {
    *graph_->add_initializer() = onnx_proto::tensor_to_proto(value, name);
    return *this;
  }
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    return add_node(graph_, op, inputs, outputs);
  }
  GraphBuilder& output(const std::string& name) {
    graph_->add_output()->set_name(name);
    return *this;
  }
  onnx::GraphProto* graph() { return graph_; }
  onnx::ModelProto& model() { return model_; }
  onnx_eval::Evaluator build() const { return onnx_eval::Evaluator(model_, "test graph"); }

  static onnx::NodeProto& add_node(onnx::GraphProto* g, const std::string& op, const std::vector<std::string>& inputs,
                                   const std::vector<std::string>& outputs) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(g->node_size()));
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }
  static void add_value_info(onnx::ValueInfoProto* v, const std::string& name, const at::Tensor& example,
                             const std::vector<std::string>& dim_params = {}) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx_proto::onnx_type_of(example.scalar_type()));
    auto* shape = tt->mutable_shape();
    for (int64_t d = 0; d < example.dim(); ++d) {
      auto* dim = shape->add_dim();
      if (static_cast<size_t>(d) < dim_params.size() && !dim_params[d].empty()) dim->set_dim_param(dim_params[d]);
      else dim->set_dim_value(example.size(d));
    }
  }

 private:
  onnx::ModelProto model_;
  onnx::GraphProto* graph_;
};

inline void attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, double v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(static_cast<float>(v));
}
inline void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void attr(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, const at::Tensor& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = onnx_proto::tensor_to_proto(v, name);
}
inline void attr(onnx::NodeProto& n, const std::string& name, const onnx::GraphProto& g) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = g;
}

// Runs a one-node graph: inputs are graph inputs (name, value) in order.
inline std::vector<at::Tensor> run_op(const std::string& op, const std::vector<std::pair<std::string, at::Tensor>>& inputs,
                                      size_t outputs, const std::function<void(onnx::NodeProto&)>& set_attrs = {},
                                      int64_t opset = 17) {
  GraphBuilder b(opset);
  std::vector<std::string> names, outs;
  std::vector<at::Tensor> values;
  for (const auto& [name, value] : inputs) {
    names.push_back(name);
    if (name.empty()) continue;
    b.input(name, value);
    values.push_back(value);
  }
  for (size_t i = 0; i < outputs; ++i) outs.push_back("y" + std::to_string(i));
  auto& n = b.node(op, names, outs);
  if (set_attrs) set_attrs(n);
  for (const auto& o : outs) b.output(o);
  return b.build().run(values);
}

}  // namespace mlopt::test
