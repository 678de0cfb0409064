// graph_passes: SiLU written as x * sigmoid(x) in the eval-mode copy, so that
// static int8 quantizes it -- and only where that keeps the model's numerics.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/graph_passes/eval_mode.h"
#include "mlopt/graph_passes/in_place_aliases.h"
#include "mlopt/graph_passes/silu_decomposition.h"
#include "support/test_support.h"

namespace {

int count_silu(const torch::jit::Module& m) {
  int n = 0;
  for (const auto& sub : m.modules())
    for (auto* node : sub.get_method("forward").graph()->nodes())
      n += node->kind() == c10::aten::silu || node->kind() == c10::aten::silu_;
  return n;
}

at::Tensor random_images(int64_t seed) { return at::randn({4, 3, 16, 16}, at::detail::createCPUGenerator(seed)); }

}  // namespace

TEST_CASE("decompose_silu: EfficientNet's SiLUs (modules, in place, and in a squeeze-excitation) become x * sigmoid(x)",
          "[graph_passes]") {
  auto model = torch::jit::load(mlopt::test::test_data("quantize_bn/silu.pt"));
  model.eval();
  auto x = random_images(1);
  torch::NoGradGuard no_grad;
  auto expected = model.forward({x}).toTensor();
  auto copy = mlopt::graph_passes::specialize_for_eval(model);
  CHECK(mlopt::graph_passes::decompose_silu(copy) == 3);
  CHECK(count_silu(copy) == 0);
  CHECK(torch::allclose(copy.forward({x}).toTensor(), expected, 1e-5, 1e-6));
  CHECK(torch::allclose(model.forward({x}).toTensor(), expected));  // the original is untouched
}

// x = act(x) + x with act in place (the caller reads what it passed), and
// z = F.silu(y, inplace=True); z * y: the later reads read the results, then
// the SiLUs decompose, and the model computes what it did.
TEST_CASE("decompose_silu: in-place SiLUs whose input is read again, read through their results",
          "[graph_passes]") {
  auto model = torch::jit::load(mlopt::test::test_data("quantize_bn/silu_aliased.pt"));
  model.eval();
  auto x = random_images(3);
  torch::NoGradGuard no_grad;
  auto expected = model.forward({x}).toTensor();
  auto copy = mlopt::graph_passes::specialize_for_eval(model);
  CHECK(mlopt::graph_passes::decompose_silu(copy) == 2);
  CHECK(count_silu(copy) == 0);
  CHECK(torch::allclose(copy.forward({x}).toTensor(), expected, 1e-5, 1e-6));
}
