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
  if (depth > 0) --depth;
}

// A top-level convolution of either kind: aten::conv2d, aten::_convolution,
// aten::conv_transpose2d, quantized::conv2d_relu, ...
bool is_convolution(const char* name) {
  const std::string n(name);
  return n.rfind("aten::conv", 0) == 0 || n.rfind("aten::_convolution", 0) == 0 || n.rfind("quantized::conv", 0) == 0;
}

thread_local std::vector<const void*>* convolution_weights = nullptr;
thread_local WatchedForward* watched = nullptr;
thread_local bool last_top_level_was_convolution = false;

std::unique_ptr<at::ObserverContext> on_top_level(const at::RecordFunction& fn) {
  if (depth++ != 0) return nullptr;
  last_top_level_was_convolution = is_convolution(fn.name());
  if (!last_top_level_was_convolution) return nullptr;
  if (watched) ++watched->convolutions;
  if (convolution_weights) {
    auto inputs = fn.inputs();
    convolution_weights->push_back(inputs.size() >= 2 && inputs[1].isTensor() ? inputs[1].toTensor().data_ptr()
                                                                              : nullptr);
  }
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

std::vector<const void*> convolution_weights_in_order(torch::jit::Module& module, const std::vector<at::Tensor>& inputs) {
  std::vector<const void*> weights;
  convolution_weights = &weights;
  depth = 0;
  run_recorded(module, inputs,
               at::RecordFunctionCallback(on_top_level, on_end).scopes({at::RecordScope::FUNCTION}).needsInputs(true),
               [] { convolution_weights = nullptr; });
  return weights;
}

WatchedForward forward_watching_convolutions(torch::jit::Module& module, const std::vector<at::Tensor>& inputs) {
  WatchedForward out;
  watched = &out;
  depth = 0;
  last_top_level_was_convolution = false;
  try {
    run_recorded(module, inputs,
                 at::RecordFunctionCallback(on_top_level, on_end).scopes({at::RecordScope::FUNCTION}).needsInputs(false),
                 [] { watched = nullptr; });
  } catch (const std::exception& e) {
    out.error = e.what();
    out.failed_in_convolution = last_top_level_was_convolution;
  }
  return out;
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
