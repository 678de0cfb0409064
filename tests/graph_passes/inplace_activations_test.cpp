// graph_passes: activations in place on the fresh output of an int8 linear.
#include <catch2/catch.hpp>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/script.h>

#include "mlopt/graph_passes/inplace_activations.h"

namespace {

std::shared_ptr<torch::jit::Graph> parse(const std::string& ir) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, graph.get());
  return graph;
}

int count_kind(const torch::jit::Graph& graph, const std::string& kind) {
  int n = 0;
  for (auto* node : graph.nodes()) n += node->kind().toQualString() == kind;
  return n;
}

}  // namespace

TEST_CASE("graph passes: a GELU that alone reads an int8 linear output runs in place", "[graph-passes]") {
  auto graph = parse(R"IR(
graph(%x : Tensor, %w : __torch__.torch.classes.quantized.LinearPackedParamsBase):
  %reduce : bool = prim::Constant[value=1]()
  %approx : str = prim::Constant[value="none"]()
  %h : Tensor = quantized::linear_dynamic(%x, %w, %reduce)
  %y : Tensor = aten::gelu(%h, %approx)
  return (%y))IR");
  CHECK(mlopt::graph_passes::run_activations_in_place(*graph) == 1);
  CHECK(count_kind(*graph, "aten::gelu_") == 1);
  CHECK(count_kind(*graph, "aten::gelu") == 0);
  graph->lint();
}

TEST_CASE("graph passes: an int8 linear output read twice keeps its activation out of place", "[graph-passes]") {
  auto graph = parse(R"IR(
graph(%x : Tensor, %w : __torch__.torch.classes.quantized.LinearPackedParamsBase):
  %reduce : bool = prim::Constant[value=1]()
  %one : int = prim::Constant[value=1]()
  %h : Tensor = quantized::linear_dynamic(%x, %w, %reduce)
  %y : Tensor = aten::relu(%h)
  %z : Tensor = aten::add(%y, %h, %one)
  return (%z))IR");
  CHECK(mlopt::graph_passes::run_activations_in_place(*graph) == 0);
  CHECK(count_kind(*graph, "aten::relu") == 1);
}

TEST_CASE("graph passes: an activation after a float op stays out of place", "[graph-passes]") {
  auto graph = parse(R"IR(
graph(%x : Tensor, %w : Tensor):
  %none : NoneType = prim::Constant()
  %h : Tensor = aten::linear(%x, %w, %none)
  %y : Tensor = aten::tanh(%h)
  return (%y))IR");
  CHECK(mlopt::graph_passes::run_activations_in_place(*graph) == 0);
  CHECK(count_kind(*graph, "aten::tanh") == 1);
}

TEST_CASE("graph passes: an activation in a loop over an int8 linear output outside it stays out of place",
          "[graph-passes]") {
  auto graph = parse(R"IR(
graph(%x : Tensor, %w : __torch__.torch.classes.quantized.LinearPackedParamsBase, %n : int):
  %reduce : bool = prim::Constant[value=1]()
  %one : int = prim::Constant[value=1]()
  %true : bool = prim::Constant[value=1]()
  %h : Tensor = quantized::linear_dynamic(%x, %w, %reduce)
  %acc : Tensor = prim::Loop(%n, %true, %x)
    block0(%i : int, %a : Tensor):
      %y : Tensor = aten::relu(%h)
      %s : Tensor = aten::add(%a, %y, %one)
      -> (%true, %s)
  return (%acc))IR");
  CHECK(mlopt::graph_passes::run_activations_in_place(*graph) == 0);
}
