#include "mlopt/onnx/graph_builder.h"

#include "mlopt/core/error.h"
#include <string_view>

namespace mlopt::onnx_export {

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

onnx::TensorProto_DataType onnx_dtype(c10::ScalarType type) {
  switch (type) {
    case at::kFloat: return onnx::TensorProto::FLOAT;
    case at::kDouble: return onnx::TensorProto::DOUBLE;
    case at::kHalf: return onnx::TensorProto::FLOAT16;
    case at::kBFloat16: return onnx::TensorProto::BFLOAT16;
    case at::kLong: return onnx::TensorProto::INT64;
    case at::kInt: return onnx::TensorProto::INT32;
    case at::kShort: return onnx::TensorProto::INT16;
    case at::kChar: return onnx::TensorProto::INT8;
    case at::kByte: return onnx::TensorProto::UINT8;
    case at::kBool: return onnx::TensorProto::BOOL;
    default: fail("dtype {} has no ONNX equivalent", c10::toString(type));
  }
}

onnx::TensorProto to_tensor_proto(const at::Tensor& tensor, const std::string& name) {
  at::Tensor t = tensor.detach().contiguous().cpu();
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(onnx_dtype(t.scalar_type()));
  for (auto d : t.sizes()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
  return proto;
}

std::string GraphBuilder::fresh(const std::string& stem) {
  std::string base = stem.empty() ? "v" : stem;
  for (auto& c : base)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  int n = counters_[base]++;
  return n == 0 && base != "v" ? base + "_0" : base + "_" + std::to_string(n);
}

std::vector<std::string> GraphBuilder::add_node(const std::string& op, const std::vector<std::string>& inputs,
                                                const std::vector<Attr>& attrs, int outputs,
                                                const std::string& stem) {
  auto* node = current()->add_node();
  node->set_op_type(op);
  node->set_name(fresh(op));
  for (auto& i : inputs) node->add_input(i);
  std::vector<std::string> outs;
  for (int k = 0; k < outputs; ++k) {
    outs.push_back(fresh(stem.empty() ? op : stem));
    node->add_output(outs.back());
  }
  for (auto& a : attrs) {
    auto* p = node->add_attribute();
    *p = a.proto;
    p->set_name(a.name);
  }
  return outs;
}

std::vector<std::string> GraphBuilder::add(const std::string& op, const std::vector<std::string>& inputs,
                                           std::initializer_list<Attr> attrs, int outputs, const std::string& stem) {
  return add_node(op, inputs, std::vector<Attr>(attrs), outputs, stem);
}

at::Tensor GraphBuilder::ints_tensor(const std::vector<int64_t>& values) {
  return torch::tensor(values, at::kLong);
}

std::string GraphBuilder::scalar_int(int64_t v) { return constant(torch::scalar_tensor(v, at::kLong), "int"); }

std::string GraphBuilder::constant(const at::Tensor& tensor, const std::string& stem) {
  at::Tensor t = tensor.detach().contiguous();
  std::string key = std::string(c10::toString(t.scalar_type())) + "|" + c10::str(t.sizes()) + "|" +
                    std::to_string(std::hash<std::string_view>{}(std::string_view(
                        static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size())));
  auto it = initializer_by_content_.find(key);
  if (it != initializer_by_content_.end() && at::equal(initializer_tensors_[it->second], t)) return it->second;
  std::string name = fresh(stem);
  // Moved in, not copied: the raw bytes are the weights, and a copy of them is
  // a fresh allocation the size of the model (page faults, memcpy).
  onnx::TensorProto proto = to_tensor_proto(t, name);
  main_->add_initializer()->Swap(&proto);
  initializer_by_content_[key] = name;
  initializer_tensors_[name] = t;
  return name;
}

}  // namespace mlopt::onnx_export
