#pragma once
// Compiles a Python model file into a TorchScript module without Python
// (the C++ analog of torch.jit.script(Class(**init))).
#include "mlopt/script/model_source.h"

namespace mlopt {
torch::jit::Module compile_python_model(const ModelSource& source);
}  // namespace mlopt
