#pragma once
// The export's probe runs: the lowered graph run at the example sizes, and at
// other sizes when some dims are dynamic, to learn every value's dtype and
// sizes (shape_probe.h) and which output dims follow which input dims.
//
// The runs go on meta tensors first (sizes and dtypes only, no arithmetic:
// a convolution costs microseconds instead of milliseconds). Anything meta
// tensors cannot do (an op without a meta kernel, a value read as a number,
// data-dependent sizes) sends the whole probe back to real tensors, so the
// result is the same either way, only slower.
#include <torch/script.h>

#include <functional>
#include <vector>

#include "mlopt/core/input_spec.h"
#include "mlopt/onnx/shape_probe.h"

namespace mlopt::onnx_export {

struct ProbeRuns {
  ShapeInfo shapes;
  std::vector<std::vector<at::Tensor>> outputs;    // per run: the graph's outputs, flattened
  std::vector<std::vector<InputSpec>> input_specs;  // per run: the sizes it ran at
  bool on_meta = false;                             // false: meta failed, real tensors were used
  std::string meta_failure;                         // why meta failed (first line), for -v
  ModuleWrites module_writes;                       // first run: what forward wrote into module attributes
};

struct ProbeRequest {
  const std::vector<InputSpec>* specs = nullptr;
  c10::IValue self;                   // the module (forward's first argument)
  std::vector<c10::IValue> defaults;  // values of the forward arguments without a spec
  bool allow_meta = true;
  std::function<void(const char*)> lap;  // called after each run (phase timing)
};

// Throws mlopt::Error when the model does not run on the example inputs, or
// (with dynamic dims) at any other sizes.
ProbeRuns run_probes(torch::jit::Graph& graph, const ProbeRequest& request);

}  // namespace mlopt::onnx_export
