// graph_passes: eval mode as constants (the `self.training` branch of
// torchvision-style stochastic depth folded away in an eval-mode copy).
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

}  // namespace

TEST_CASE("fold_eval_mode: stochastic depth's branch on self.training folds in an eval-mode copy only",
          "[graph_passes]") {
  auto model = torch::jit::load(mlopt::test::test_data("quantize_bn/drop_path.pt"));
  auto x = at::randn({4, 3, 16, 16}, at::detail::createCPUGenerator(1));
  torch::NoGradGuard no_grad;
  model.eval();
  auto expected = model.forward({x}).toTensor();

  auto copy = model.clone();
  copy.eval();
  // StochasticDepth's and BatchNorm's reads (drop1 and drop2 share one class: one graph).
  CHECK(mlopt::graph_passes::fold_eval_mode(copy) >= 2);
  auto drop = copy.attr("drop1").toModule();
  auto graph = drop.get_method("forward").graph();
  CHECK(count_kind(*graph, c10::prim::CallFunction) == 0);
  CHECK(count_kind(*graph, c10::prim::If) == 0);  // `return input`, nothing else
  CHECK(copy.forward({x}).toTensor().equal(expected));
  CHECK(mlopt::graph_passes::fold_eval_mode(copy) == 0);  // nothing left to fold

  // The original keeps its branch: in training mode it still drops paths.
  model.train();
  bool dropped = false;
  for (int i = 0; i < 8 && !dropped; ++i) dropped = !model.forward({x}).toTensor().equal(model.forward({x}).toTensor());
  CHECK(dropped);
}
