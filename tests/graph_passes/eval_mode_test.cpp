// graph_passes: the eval-mode copy specialized module by module (a class of
// its own each, bool flags folded), for the post-training quantize passes.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/graph_passes/eval_mode.h"
#include "support/test_support.h"

namespace {

int count_kind(const torch::jit::Graph& graph, c10::Symbol kind) {
  int n = 0;
  for (auto* node : graph.nodes()) n += node->kind() == kind;
  return n;
}

std::shared_ptr<torch::jit::Graph> forward_of(const torch::jit::Module& m, const std::string& child) {
  return m.attr(child).toModule().get_method("forward").graph();
}

at::Tensor input(int64_t seed) { return at::randn({4, 3, 16, 16}, at::detail::createCPUGenerator(seed)); }

}  // namespace

TEST_CASE("specialize_for_eval: stochastic depth's branch on self.training folds, the original still trains",
          "[graph_passes]") {
  auto model = torch::jit::load(mlopt::test::test_data("quantize_bn/drop_path.pt"));
  auto x = input(1);
  torch::NoGradGuard no_grad;
  model.eval();
  auto expected = model.forward({x}).toTensor();

  mlopt::graph_passes::EvalSpecialization stats;
  auto copy = mlopt::graph_passes::specialize_for_eval(model, &stats);
  CHECK(stats.classes == static_cast<int>(model.modules().size()));  // every module, the root included
  CHECK(stats.folded >= 2);    // StochasticDepth's and BatchNorm's reads of training
  for (const auto* drop : {"drop1", "drop2"}) {
    INFO(drop);
    auto graph = forward_of(copy, drop);
    CHECK(count_kind(*graph, c10::prim::CallFunction) == 0);
    CHECK(count_kind(*graph, c10::prim::If) == 0);  // `return input`, nothing else
  }
  CHECK(copy.forward({x}).toTensor().equal(expected));

  // The original keeps its branch: in training mode it still drops paths.
  model.train();
  bool dropped = false;
  for (int i = 0; i < 8 && !dropped; ++i) dropped = !model.forward({x}).toTensor().equal(model.forward({x}).toTensor());
  CHECK(dropped);
}

TEST_CASE("specialize_for_eval: two blocks of one class get classes of their own and their own flag folded",
          "[graph_passes]") {
  auto model = torch::jit::load(mlopt::test::test_data("quantize_bn/flag_blocks.pt"));
  REQUIRE(model.attr("block1").toModule().type() == model.attr("block2").toModule().type());
  auto x = input(2);
  torch::NoGradGuard no_grad;
  model.eval();
  auto expected = model.forward({x}).toTensor();

  auto copy = mlopt::graph_passes::specialize_for_eval(model);
  CHECK(copy.attr("block1").toModule().type() != copy.attr("block2").toModule().type());
  auto with_residual = forward_of(copy, "block1"), without = forward_of(copy, "block2");
  CHECK(count_kind(*with_residual, c10::prim::If) == 0);
  CHECK(count_kind(*without, c10::prim::If) == 0);
  CHECK(count_kind(*with_residual, c10::aten::add) == 1);
  CHECK(count_kind(*without, c10::aten::add) == 0);
  CHECK(copy.forward({x}).toTensor().equal(expected));
  // The copy keeps every parameter and saves like any module.
  CHECK(copy.parameters().size() == model.parameters().size());
  auto path = mlopt::test::temp_dir("eval_mode") + "/copy.pt";
  copy.save(path);
  CHECK(torch::jit::load(path).forward({x}).toTensor().equal(expected));
}
