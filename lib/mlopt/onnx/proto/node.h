#pragma once
// Making and reading ONNX nodes: typed attributes, make_node, attribute lookup.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlopt::onnx_proto {

// One attribute: Attr{"axis", int64_t{1}}, {"perm", std::vector<int64_t>{...}}, ...
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

// A node of `op` named `name`, reading `inputs` and writing `outputs`.
onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name,
                          const std::vector<Attr>& attrs = {});
void add_attribute(onnx::NodeProto& node, const Attr& attr);

// The node's attribute `name`, or nullptr.
const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name);
int64_t attribute_int(const onnx::NodeProto& node, const std::string& name, int64_t dflt);
float attribute_float(const onnx::NodeProto& node, const std::string& name, float dflt);

}  // namespace mlopt::onnx_proto
