#include "mlopt/script/model_source.h"

#include <torch/script.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/script/python_model.h"

namespace mlopt {

torch::jit::Module load_model(const ModelSource& source) {
  std::string ext = extension_of(source.path);
  if (ext == ".py") return compile_python_model(source);
  if (ext == ".pt" || ext == ".pth" || ext == ".ptl" || ext == ".zip") {
    if (ext == ".ptl") fail("'{}': lite-interpreter files cannot be transformed; give the .pt it came from", source.path);
    if (!source.class_name.empty() || !source.init.empty() || !source.weights.empty())
      fail("'{}': --class, --init and --weights apply to .py models only", source.path);
    return load_torchscript(source.path);
  }
  fail("'{}': expected a model file ending in .pt or .py", source.path);
}

}  // namespace mlopt
