// Placeholder until the script front end lands: fails with a clear message.
#include "mlopt/script/python_model.h"

#include <torch/script.h>

#include "mlopt/core/error.h"

namespace mlopt {
torch::jit::Module compile_python_model(const ModelSource& source) {
  fail("'{}': compiling Python model files is not available in this build", source.path);
}
}  // namespace mlopt
