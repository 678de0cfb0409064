#include "mlopt/capture/freeze.h"

#include "mlopt/core/error.h"

namespace mlopt {

torch::jit::Module freeze_for_inference(const torch::jit::Module& module, const FreezeOptions& options) {
  return with_context("freezing the model", [&] {
    // freeze() requires eval mode and works on a clone, leaving `module` as it was.
    torch::jit::Module copy = module.clone();
    copy.eval();
    torch::jit::Module frozen = torch::jit::freeze(copy, c10::nullopt, options.optimize_numerics);
    if (options.optimize_for_inference) frozen = torch::jit::optimize_for_inference(frozen);
    return frozen;
  });
}

}  // namespace mlopt
