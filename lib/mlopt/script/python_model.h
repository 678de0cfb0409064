#pragma once
// Compiles a Python model file into a TorchScript module without Python
// (the C++ analog of torch.jit.script(Class(**init))).
#include "mlopt/script/model_source.h"

#include <string>
#include <vector>

namespace mlopt {

// What `script` adds to a ModelSource.
struct PythonModelOptions {
  std::string weights_key;         // the checkpoint entry holding the state_dict (empty: the usual names)
  bool strict = true;              // false: a partial state_dict loads; what it lacks stays at init (listed)
  std::vector<std::string> paths;  // folders `from package.module import X` is resolved against
};

torch::jit::Module compile_python_model(const ModelSource& source);
torch::jit::Module compile_python_model(const ModelSource& source, const PythonModelOptions& options);
}  // namespace mlopt
