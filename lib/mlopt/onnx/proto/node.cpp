#include "mlopt/onnx/proto/node.h"

namespace mlopt::onnx_proto {

Attr::Attr(std::string n, int64_t v) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::INT);
  proto.set_i(v);
}
Attr::Attr(std::string n, float v) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::FLOAT);
  proto.set_f(v);
}
Attr::Attr(std::string n, const std::string& v) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::STRING);
  proto.set_s(v);
}
Attr::Attr(std::string n, const std::vector<int64_t>& v) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::INTS);
  for (auto x : v) proto.add_ints(x);
}
Attr::Attr(std::string n, const std::vector<float>& v) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::FLOATS);
  for (auto x : v) proto.add_floats(x);
}
Attr::Attr(std::string n, const std::vector<std::string>& v) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::STRINGS);
  for (const auto& x : v) proto.add_strings(x);
}
Attr::Attr(std::string n, const onnx::TensorProto& v) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::TENSOR);
  *proto.mutable_t() = v;
}
Attr::Attr(std::string n, const onnx::GraphProto& g) : name(std::move(n)) {
  proto.set_type(onnx::AttributeProto::GRAPH);
  *proto.mutable_g() = g;
}

void add_attribute(onnx::NodeProto& node, const Attr& attr) {
  auto* p = node.add_attribute();
  *p = attr.proto;
  p->set_name(attr.name);
}

onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name,
                          const std::vector<Attr>& attrs) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (const auto& i : inputs) n.add_input(i);
  for (const auto& o : outputs) n.add_output(o);
  for (const auto& a : attrs) add_attribute(n, a);
  return n;
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attribute_int(const onnx::NodeProto& node, const std::string& name, int64_t dflt) {
  const auto* a = find_attribute(node, name);
  return a ? a->i() : dflt;
}

float attribute_float(const onnx::NodeProto& node, const std::string& name, float dflt) {
  const auto* a = find_attribute(node, name);
  return a ? a->f() : dflt;
}

}  // namespace mlopt::onnx_proto
