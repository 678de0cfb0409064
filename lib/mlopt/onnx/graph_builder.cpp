#include "mlopt/onnx/graph_builder.h"

#include "mlopt/core/error.h"
#include <string_view>

namespace mlopt::onnx_export {

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
  // Named before its outputs: fresh(op) and fresh(stem) may share a counter.
  std::string node_name = fresh(op);
  std::vector<std::string> outs;
  for (int k = 0; k < outputs; ++k) outs.push_back(fresh(stem.empty() ? op : stem));
  *current()->add_node() = onnx_proto::make_node(op, inputs, outs, node_name, attrs);
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
  onnx::TensorProto proto = tensor_to_proto(t, name);
  main_->add_initializer()->Swap(&proto);
  initializer_by_content_[key] = name;
  initializer_tensors_[name] = t;
  return name;
}

}  // namespace mlopt::onnx_export
