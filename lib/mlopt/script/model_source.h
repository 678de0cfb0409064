#pragma once
// Where a model comes from: a TorchScript archive (.pt) or a Python model file
// (.py, compiled by `script`), with the class, constructor arguments and weights.
#include <string>
#include <vector>

namespace torch::jit {
struct Module;
}

namespace mlopt {

struct ModelSource {
  std::string path;                  // .pt | .py
  std::string class_name;            // .py: the nn.Module class to build
  std::vector<std::string> init;     // .py: constructor arguments, "key=value"
  std::string weights;               // .py: state_dict file (.pth/.pt/.safetensors), optional
  uint64_t seed = 0;                 // .py without weights: parameter initialization

  // Declares the fields for CLI flags / YAML keys (see core/options.h); the
  // path itself is bound by the command (positional) or the pipeline.
  template <class V>
  void visit_python_fields(V& v) {
    v.option("class", class_name, "Model class to build (.py models)");
    v.option("init", init, "Constructor argument key=value (.py models, repeatable)");
    v.option("weights", weights, "Weights file: torch.save(state_dict) .pth/.pt or .safetensors (.py models)");
  }
};

// Loads the model as a TorchScript module in eval mode.
torch::jit::Module load_model(const ModelSource& source);

}  // namespace mlopt
