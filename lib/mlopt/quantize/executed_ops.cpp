#include "mlopt/quantize/executed_ops.h"

#include <ATen/record_function.h>

#include <functional>

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

thread_local std::map<const void*, std::vector<int64_t>>* convolutions = nullptr;

std::unique_ptr<at::ObserverContext> on_convolution(const at::RecordFunction& fn) {
  if (!convolutions || (std::string(fn.name()) != "aten::conv2d" && std::string(fn.name()) != "aten::_convolution"))
    return nullptr;
  auto inputs = fn.inputs();
  if (inputs.size() >= 2 && inputs[0].isTensor() && inputs[1].isTensor())
    (*convolutions)[inputs[1].toTensor().data_ptr()] = inputs[0].toTensor().sizes().vec();
  return nullptr;
}

// One forward of `module` on `inputs` with `callback` recording.
void run_recorded(torch::jit::Module& module, const std::vector<at::Tensor>& inputs,
                  at::RecordFunctionCallback callback, const std::function<void()>& stop_recording) {
  auto handle = at::addThreadLocalCallback(std::move(callback));
  try {
    torch::NoGradGuard no_grad;
    std::vector<c10::IValue> args(inputs.begin(), inputs.end());
    module.forward(args);
  } catch (...) {
    at::removeCallback(handle);
    stop_recording();
    throw;
  }
  at::removeCallback(handle);
  stop_recording();
}

}  // namespace

std::map<const void*, std::vector<int64_t>> convolution_input_sizes(torch::jit::Module& module,
                                                                    const std::vector<at::Tensor>& inputs) {
  std::map<const void*, std::vector<int64_t>> sizes;
  convolutions = &sizes;
  run_recorded(module, inputs,
               at::RecordFunctionCallback(on_convolution).scopes({at::RecordScope::FUNCTION}).needsInputs(true),
               [] { convolutions = nullptr; });
  return sizes;
}

std::map<std::string, int64_t> executed_ops(torch::jit::Module& module, const std::vector<at::Tensor>& inputs) {
  std::map<std::string, int64_t> counts;
  recording = &counts;
  depth = 0;
  run_recorded(module, inputs,
               at::RecordFunctionCallback(on_start, on_end).scopes({at::RecordScope::FUNCTION}).needsInputs(false),
               [] { recording = nullptr; });
  return counts;
}

}  // namespace mlopt::quant
