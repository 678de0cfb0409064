#include "mlopt/capture/trace_module.h"

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/constant_pooling.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "mlopt/core/error.h"

namespace mlopt {

torch::jit::Module trace_module(torch::jit::Module& source, const std::vector<at::Tensor>& example_inputs) {
  return with_context("tracing the model", [&] {
    source.eval();
    // The new module shares the source's tensors while tracing (inplace clone),
    // so every parameter the interpreter reads is found in the tracer's value
    // map and recorded as `self.<path>` rather than baked in as a constant.
    // Its type is a fresh class without `forward`, which the trace provides.
    torch::jit::Module target = source.clone(/*inplace=*/true, {"forward"}, {});
    torch::jit::Stack inputs(example_inputs.begin(), example_inputs.end());
    auto run_source = [&source](torch::jit::Stack stack) { return torch::jit::Stack{source.forward(std::move(stack))}; };
    auto no_names = [](const torch::autograd::Variable&) { return std::string(); };
    std::shared_ptr<torch::jit::Graph> graph;
    {
      torch::NoGradGuard no_grad;
      // strict=false: list and dict outputs are recorded as containers.
      try {
        auto traced = torch::jit::tracer::trace(std::move(inputs), run_source, no_names, /*strict=*/false,
                                                /*force_outplace=*/false, &target);
        graph = traced.first->graph;
      } catch (const c10::Error& e) {
        if (std::string(e.what()).find("can be output from traced functions") == std::string::npos) throw;
        fail("forward returns {}, which a trace cannot record (tensors, and lists, tuples and dicts of tensors "
             "only; a detection model's list of dicts is neither): keep the scripted .pt, or export it with "
             "`mlopt export-onnx`",
             source.get_method("forward").function().getSchema().returns().at(0).type()->annotation_str());
      }
    }
    torch::jit::EliminateDeadCode(graph);
    torch::jit::ConstantPooling(graph);
    auto name = c10::QualifiedName(*target.type()->name(), "forward");
    auto* fn = target._ivalue()->compilation_unit()->create_function(name, graph);
    target.type()->addMethod(fn);
    // Own copies of the weights, so that the traced module and its source are independent.
    torch::jit::Module traced = target.clone();
    traced.eval();
    return traced;
  });
}

}  // namespace mlopt
