#include "mlopt/core/libtorch_cause.h"
#include "mlopt/onnx/example_probes.h"

#include <algorithm>

#include "mlopt/core/dynamic_resize.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"

namespace mlopt::onnx_export {

namespace {

// Second-run sizes: each named dim gets its own size, so that output dims can
// be matched to the input dim they follow.
// The graph's arguments: `self` (unused after freezing), the inputs, the defaults.
std::vector<c10::IValue> graph_arguments(const std::vector<InputSpec>& specs, uint64_t seed, bool meta,
                                         const std::vector<c10::IValue>& defaults) {
  std::vector<c10::IValue> args{c10::IValue()};
  if (meta) {
    for (auto& s : specs) {
      require_within_spec_limit(s);
      args.emplace_back(at::empty(s.shape(), at::TensorOptions(scalar_type_of(s.dtype)).device(at::kMeta)));
    }
  } else {
    for (auto& t : random_inputs(specs, seed)) args.emplace_back(t);
  }
  for (auto& d : defaults) args.push_back(meta ? to_meta(d) : d);
  return args;
}

bool has_dynamic_dims(const std::vector<InputSpec>& specs) {
  for (auto& s : specs)
    if (s.has_dynamic_dims()) return true;
  return false;
}

std::vector<at::Tensor> run_once(torch::jit::Graph& graph, const std::vector<c10::IValue>& args, ShapeInfo& shapes,
                                 bool second_run, bool meta) {
  RunOptions run;
  run.record = &shapes;
  run.second_run = second_run;
  run.meta = meta;
  auto outs = run_graph(graph, args, run);
  return flatten_outputs(outs.size() == 1 ? outs[0] : c10::IValue(c10::ivalue::Tuple::create(outs)));
}

// Both runs on one kind of tensor. Throws when the first run fails or, with
// dynamic dims, when every choice of other sizes fails.
ProbeRuns probe(torch::jit::Graph& graph, const ProbeRequest& request, bool meta) {
  const auto& specs = *request.specs;
  ProbeRuns runs;
  runs.on_meta = meta;
  runs.input_specs.push_back(specs);
  runs.outputs.push_back(with_context("running the model on the example inputs", [&] {
    return run_once(graph, graph_arguments(specs, 0, meta, request.defaults), runs.shapes, false, meta);
  }));
  if (request.lap) request.lap("shape probe 1");
  if (!has_dynamic_dims(specs)) return runs;

  std::string last_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto other = with_moved_dynamic_dims(specs, attempt);
    try {
      ShapeInfo trial = runs.shapes;
      runs.outputs.push_back(run_once(graph, graph_arguments(other, 1, meta, request.defaults), trial, true, meta));
      runs.shapes = std::move(trial);
      runs.input_specs.push_back(other);
      if (request.lap) request.lap("shape probe 2");
      return runs;
    } catch (const std::exception& e) {
      last_error = libtorch_cause(e.what());
    }
  }
  fail("the model does not run when its dynamic dims change size ({}); export with static dims", last_error);
}

}  // namespace

ProbeRuns run_probes(torch::jit::Graph& graph, const ProbeRequest& request) {
  torch::NoGradGuard no_grad;
  if (request.allow_meta) {
    try {
      return probe(graph, request, /*meta=*/true);
    } catch (const std::exception& e) {
      // Not an error of the model's (the real run below says if it is one).
      auto runs = probe(graph, request, /*meta=*/false);
      runs.meta_failure = libtorch_cause(e.what());
      return runs;
    }
  }
  return probe(graph, request, /*meta=*/false);
}

}  // namespace mlopt::onnx_export
