// plan_value_deaths: where the shape probe may drop each value.
#include <catch2/catch.hpp>
#include <torch/csrc/jit/ir/irparser.h>

#include <algorithm>

#include "mlopt/onnx/value_lifetimes.h"

using mlopt::onnx_export::plan_value_deaths;

namespace {

using Values = std::vector<const torch::jit::Value*>;

Values dying_after(const mlopt::onnx_export::DeathPlan& plan, const torch::jit::Node* node) {
  Values values;
  if (auto it = plan.find(node); it != plan.end()) values = it->second;
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

TEST_CASE("onnx value lifetimes: a value dies after its last reader, nested reads included", "[onnx]") {
  auto graph = std::make_shared<torch::jit::Graph>();
  std::unordered_map<std::string, torch::jit::Value*> vmap;
  torch::jit::parseIR(R"IR(
graph(%x : Tensor, %c : bool):
  %a : Tensor = aten::relu(%x)
  %b : Tensor = aten::sigmoid(%a)
  %unused : Tensor = aten::tanh(%b)
  %r : Tensor = prim::If(%c)
    block0():
      %d : Tensor = aten::neg(%a)
      -> (%d)
    block1():
      -> (%b)
  %out : Tensor = aten::add(%r, %b, %x)
  return (%out)
)IR", graph.get(), vmap);
  auto plan = plan_value_deaths(graph->block());
  auto node = [&](const char* v) { return vmap.at(v)->node(); };
  auto values = [&](std::initializer_list<const char*> names) {
    Values out;
    for (auto* n : names) out.push_back(vmap.at(n));
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(dying_after(plan, node("a")).empty());
  CHECK(dying_after(plan, node("b")).empty());
  CHECK(dying_after(plan, node("unused")) == values({"unused"}));
  // %a is read inside the If's then-branch: it lives until the If is done.
  CHECK(dying_after(plan, node("r")) == values({"a", "c"}));
  CHECK(dying_after(plan, node("out")) == values({"b", "r", "x"}));
  // Values of a nested block die inside it, except its outputs.
  auto inner = plan_value_deaths(node("r")->blocks()[0]);
  CHECK(inner.empty());
}
