#pragma once
// Which file `mlopt serve MODEL|RELEASE_DIR` serves, under which name, with
// which signature: a model file speaks for itself (its mlopt.json metadata);
// a release folder (`mlopt run --out`) through its manifest.json.
#include <string>
#include <vector>

#include "mlopt/core/input_spec.h"
#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

struct ServedArtifact {
  std::string path;                       // the .pt/.ptl/.onnx file
  std::string name;                       // model name in the URLs
  std::vector<InputSpec> inputs;          // from the manifest; empty: ask the artifact
  std::vector<std::string> output_names;  // from the manifest; empty: output0, output1, ...
};

// `choice` picks an artifact of a release folder by file name ("int8.ptl") or
// step name ("int8"); empty: the last TorchScript artifact of the manifest.
// `name` overrides the model name (default: the file's stem, or the pipeline's
// name for a release folder). Throws mlopt::Error naming the path and cause.
ServedArtifact find_artifact(const std::string& model_or_dir, const std::string& choice, const std::string& name);

// How the server declares a model input (v2 datatype, -1 for dynamic dims); throws for a dtype it cannot serve.
TensorSpec tensor_spec(const InputSpec& spec);

}  // namespace mlopt::serving
