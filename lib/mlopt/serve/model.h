#pragma once
// The model behind the server: runs host tensors, hides LibTorch. One adapter
// (model_torch.cpp) implements it on top of the artifact runners, so moving to
// the shared runtime layer touches only that file.
#include <memory>
#include <string>
#include <vector>

#include "mlopt/core/input_spec.h"
#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

class Model {
 public:
  virtual ~Model() = default;
  // Runs once on inputs in signature order; outputs flattened in order. Throws
  // mlopt::Error (one line) when the model fails. Callable from any thread,
  // one call at a time per Model.
  virtual std::vector<HostTensor> run(const std::vector<HostTensor>& inputs) = 0;
  // What the artifact declares (mlopt.json metadata, ONNX graph inputs).
  virtual std::vector<InputSpec> declared_inputs() const = 0;
  // Output names the artifact has (ONNX); empty otherwise.
  virtual std::vector<std::string> output_names() const = 0;
  // "torchscript", "torchscript-lite" or "onnx-reference-evaluator".
  virtual std::string engine() const = 0;
};

// Loads a .pt, .ptl or .onnx artifact (never a URL).
std::unique_ptr<Model> load_model(const std::string& path);

}  // namespace mlopt::serving
