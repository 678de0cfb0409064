#pragma once
// The built-in ONNX evaluator: runs an ONNX graph with ATen operations, node
// by node. A reference path for verify/profile (no external runtime), not a
// fast runtime. Torch-free header.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlopt/core/input_spec.h"

namespace at {
class Tensor;
}
namespace onnx {
class ModelProto;
}

namespace mlopt::onnx_eval {

class Evaluator {
 public:
  // Loads and checks a model file; errors (never crashes) on corrupt files.
  static Evaluator load(const std::string& path);
  // The same from serialized bytes; `what` names the source in errors.
  static Evaluator from_bytes(const std::string& bytes, const std::string& what);
  Evaluator(const onnx::ModelProto& model, const std::string& what);
  ~Evaluator();
  Evaluator(Evaluator&&) noexcept;
  Evaluator& operator=(Evaluator&&) noexcept;

  // Runs the main graph on tensors given in graph-input order (initializers
  // that are also graph inputs may be left out).
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs) const;

  std::vector<std::string> input_names() const;  // graph inputs that are not initializers
  std::vector<InputSpec> input_specs() const;    // from the graph inputs' types (dim_param: dynamic)
  std::vector<std::string> output_names() const;
  int64_t opset() const;
  int64_t parameter_count() const;  // elements of the floating/integer initializers
  int64_t parameter_bytes() const;
  // The op types of every node (subgraphs included), for precision detection.
  std::vector<std::string> op_types() const;
  const onnx::ModelProto& model() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlopt::onnx_eval
