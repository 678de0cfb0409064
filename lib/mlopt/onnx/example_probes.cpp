#include "mlopt/core/libtorch_cause.h"
#include "mlopt/onnx/example_probes.h"

#include <algorithm>
#include <limits>

#include "mlopt/core/dynamic_resize.h"
#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"

namespace mlopt::onnx_export {

namespace {

// Second-run sizes: each named dim gets its own size, so that output dims can
// be matched to the input dim they follow.
// The graph's arguments: `self` (read only where forward keeps module
// attributes it writes), the inputs, the defaults.
std::vector<c10::IValue> graph_arguments(const c10::IValue& self, const std::vector<InputSpec>& specs, uint64_t seed,
                                         bool meta, const std::vector<c10::IValue>& defaults) {
  std::vector<c10::IValue> args{self};
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

// Ops whose output sizes depend on the input values (detection models: NMS,
// boolean masks, nonzero, a topk of a count known only at run time), with the
// output dim that does. Such dims are dynamic even when every input size is
// fixed, and the probe runs twice (on other values) so that the dims computed
// from them change too and are exported symbolically.
int64_t data_dependent_dim(const torch::jit::Node* n) {
  auto kind = std::string(n->kind().toQualString());
  if (kind == "torchvision::nms" || kind == "aten::nonzero" || kind == "aten::masked_select" ||
      kind == "aten::_unique2" || kind == "aten::unique_dim" || kind == "aten::unique_consecutive")
    return 0;
  if (kind == "aten::topk" && n->input(1)->node()->kind() != c10::prim::Constant) {
    auto dim = torch::jit::toIValue(n->input(2));
    return dim && dim->isInt() ? dim->toInt() : -1;
  }
  if (kind == "aten::index" && n->input(1)->node()->kind() == c10::prim::ListConstruct) {
    const auto* list = n->input(1)->node();
    for (size_t k = 0; k < list->inputs().size(); ++k) {
      auto t = list->input(k)->type()->cast<c10::TensorType>();
      if (t && t->scalarType() && (*t->scalarType() == at::kBool || *t->scalarType() == at::kByte))
        return static_cast<int64_t>(k);
    }
  }
  return std::numeric_limits<int64_t>::min();
}

bool has_data_dependent_sizes(const torch::jit::Block* block) {
  for (const auto* n : block->nodes()) {
    if (data_dependent_dim(n) != std::numeric_limits<int64_t>::min()) return true;
    for (const auto* sub : n->blocks())
      if (has_data_dependent_sizes(sub)) return true;
  }
  return false;
}

void mark_data_dependent_dims(const torch::jit::Block* block, ShapeInfo& shapes) {
  for (const auto* n : block->nodes()) {
    for (const auto* sub : n->blocks()) mark_data_dependent_dims(sub, shapes);
    int64_t dim = data_dependent_dim(n);
    if (dim == std::numeric_limits<int64_t>::min()) continue;
    for (const auto* out : n->outputs()) {
      auto it = shapes.infos.find(out);
      if (it == shapes.infos.end()) continue;
      int64_t rank = it->second.rank(), d = dim < 0 ? dim + rank : dim;
      if (d >= 0 && d < rank) it->second.dynamic[static_cast<size_t>(d)] = true;
    }
  }
}

bool has_dynamic_dims(const std::vector<InputSpec>& specs) {
  for (auto& s : specs)
    if (s.has_dynamic_dims()) return true;
  return false;
}

std::vector<at::Tensor> run_once(torch::jit::Graph& graph, const std::vector<c10::IValue>& args, ShapeInfo& shapes,
                                 bool second_run, bool meta, ModuleWrites* module_writes = nullptr) {
  RunOptions run;
  run.module_writes = module_writes;
  run.record = &shapes;
  run.second_run = second_run;
  run.meta = meta;
  if (second_run && has_data_dependent_sizes(graph.block())) run.shrink_data_dependent = data_dependent_dim;
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
    return run_once(graph, graph_arguments(request.self, specs, 0, meta, request.defaults), runs.shapes, false, meta,
                    &runs.module_writes);
  }));
  if (request.lap) request.lap("shape probe 1");
  if (has_data_dependent_sizes(graph.block())) {
    mark_data_dependent_dims(graph.block(), runs.shapes);
    if (!has_dynamic_dims(specs)) {
      // Same sizes, other values: the sizes that follow the values change.
      with_context("running the model on other example values", [&] {
        runs.outputs.push_back(run_once(graph, graph_arguments(request.self, specs, 1, meta, request.defaults), runs.shapes, true, meta));
      });
      runs.input_specs.push_back(specs);
      if (request.lap) request.lap("shape probe 2");
      return runs;
    }
  }
  if (!has_dynamic_dims(specs)) return runs;

  std::string last_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto other = with_moved_dynamic_dims(specs, attempt);
    try {
      ShapeInfo trial = runs.shapes;
      runs.outputs.push_back(run_once(graph, graph_arguments(request.self, other, 1, meta, request.defaults), trial, true, meta));
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
