#pragma once
// The runtime layer: one interface that runs a `.pt` (TorchScript), `.ptl`
// (lite interpreter), `.onnx` (the built-in ONNX evaluator) or `.py` (scripted
// on the fly) on a list of tensors. verify, profile and the pipeline use it to
// treat every artifact the same way. Torch-free header (tensors and modules
// are forward-declared), so a server can include it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlopt/core/input_spec.h"
#include "mlopt/script/model_source.h"

namespace at {
class Tensor;
}

namespace mlopt {

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs the model once; outputs flattened (tuples, lists, dicts) in order.
  virtual std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs) = 0;
  // "torchscript", "torchscript-lite" or "onnx-reference-evaluator".
  virtual std::string engine() const = 0;
  // Inputs the artifact declares (ONNX graph inputs, the mlopt.json metadata
  // of .pt/.ptl); empty when it declares none.
  virtual std::vector<InputSpec> declared_inputs() const { return {}; }
  // Output names where the artifact has them (ONNX), else empty.
  virtual std::vector<std::string> output_names() const { return {}; }
  // fp32, fp16, bf16 or int8: what the weights/ops of the artifact are in.
  virtual std::string precision() const = 0;
  virtual int64_t parameter_count() const = 0;
  virtual int64_t parameter_bytes() const = 0;
  // The TorchScript module behind a .pt/.py runner (profiling, FLOPs); null otherwise.
  virtual torch::jit::Module* torchscript_module() { return nullptr; }

  const std::string& path() const { return path_; }
  void set_path(std::string path) { path_ = std::move(path); }
  // The quantized engine the artifact's int8 weights were loaded for (its
  // mlopt.json "engine", made active before the load), or "".
  const std::string& quantized_engine() const { return quantized_engine_; }
  void set_quantized_engine(std::string engine) { quantized_engine_ = std::move(engine); }

 private:
  std::string path_;
  std::string quantized_engine_;
};

// Opens an artifact by its extension. `python` supplies the class/init/weights
// of a .py model (its path field is ignored; `path` is used).
std::unique_ptr<Runner> load_runner(const std::string& path, const ModelSource& python = {});

// The .onnx runner (runner_onnx.cpp): the built-in evaluator.
std::unique_ptr<Runner> make_onnx_runner(const std::string& path);

// Input specs parsed from mlopt.json metadata text ({"inputs": ["x:batch=1x3:float32", ...]}).
std::vector<InputSpec> input_specs_from_metadata(const std::string& metadata_json);

}  // namespace mlopt
