#include "mlopt/quantize/executed_ops.h"

#include <ATen/record_function.h>

namespace mlopt::quant {

namespace {

// The callbacks are plain functions: the recording state is per thread.
thread_local std::map<std::string, int64_t>* recording = nullptr;
thread_local int depth = 0;

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  if (recording && depth++ == 0) ++(*recording)[fn.name()];
  return nullptr;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* ctx) {
  (void)fn, (void)ctx;
  if (recording && depth > 0) --depth;
}

}  // namespace

std::map<std::string, int64_t> executed_ops(torch::jit::Module& module, const std::vector<at::Tensor>& inputs) {
  std::map<std::string, int64_t> counts;
  recording = &counts;
  depth = 0;
  auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(on_start, on_end).scopes({at::RecordScope::FUNCTION}).needsInputs(false));
  try {
    torch::NoGradGuard no_grad;
    std::vector<c10::IValue> args(inputs.begin(), inputs.end());
    module.forward(args);
  } catch (...) {
    at::removeCallback(handle);
    recording = nullptr;
    throw;
  }
  at::removeCallback(handle);
  recording = nullptr;
  return counts;
}

}  // namespace mlopt::quant
