#pragma once
// The ONNX evaluator's op registry: one kernel per op type, registered at the
// bottom of the file of its family (ops/*.cpp) with REGISTER_ONNX_OP.
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include <fmt/format.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mlopt/core/registry.h"

namespace mlopt::onnx_eval {

class Scope;

// What a kernel sees: the node, its input tensors (undefined for an omitted
// optional input), the model's opset, and the scope for subgraphs.
struct OpContext {
  const onnx::NodeProto& node;
  std::vector<at::Tensor> inputs;
  int64_t opset;
  const Scope* scope;  // the values visible to subgraphs (If/Loop)

  size_t input_count() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i].defined(); }
  const at::Tensor& input(size_t i) const;  // errors when missing
  size_t output_count() const { return static_cast<size_t>(node.output_size()); }

  const onnx::AttributeProto* attribute(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  double attr_float(const std::string& name, double fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<double> attr_floats(const std::string& name) const;
  bool has_attr(const std::string& name) const { return attribute(name) != nullptr; }
  const onnx::GraphProto& attr_graph(const std::string& name) const;

  // Errors that name the node: "Conv node 'conv1': ...".
  [[noreturn]] void fail(const std::string& message) const;
};

using OpKernel = std::function<std::vector<at::Tensor>(OpContext&)>;

void register_op(const std::string& op_type, OpKernel kernel);
const OpKernel* find_op(const std::string& op_type);
std::vector<std::string> registered_ops();
std::vector<std::string> duplicate_ops();  // op types registered twice (a test keeps this empty)

// Helpers shared by kernels.
std::vector<int64_t> to_int_vector(const at::Tensor& t);
int64_t normalize_axis(int64_t axis, int64_t rank, const OpContext& ctx);

struct OpRegistrar {
  OpRegistrar(std::initializer_list<const char*> names, OpKernel kernel);
};

}  // namespace mlopt::onnx_eval

// REGISTER_ONNX_OP({"Relu"}, relu);  REGISTER_ONNX_OP({"ReduceMax", "ReduceMin"}, reduce);
#define REGISTER_ONNX_OP(...) MLOPT_STATIC_REGISTRAR(::mlopt::onnx_eval::OpRegistrar, __VA_ARGS__)
