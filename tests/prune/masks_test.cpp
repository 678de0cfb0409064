#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "mlopt/prune/layer_select.h"
#include "mlopt/prune/masks.h"
#include "support/test_support.h"

using namespace mlopt::pruning;
using mlopt::test::test_data;

namespace {
int64_t zeros_of(const torch::jit::Module& layer) {
  auto w = layer.attr("weight").toTensor();
  return w.numel() - w.count_nonzero().item<int64_t>();
}
}  // namespace

TEST_CASE("prune: glob patterns over module paths", "[prune]") {
  CHECK(glob_match("layers.*", "layers.0.conv1"));
  CHECK(glob_match("*.conv?", "layers.0.conv1"));
  CHECK_FALSE(glob_match("layers.1*", "layers.0.conv1"));
  CHECK(glob_match("fc", "fc"));
  CHECK_FALSE(glob_match("fc", "fc1"));
}

TEST_CASE("prune: l1-unstructured zeroes exactly the amount per layer, smallest magnitudes first", "[prune]") {
  auto m = mlopt::load_torchscript(test_data("prune/residual_cnn.pt"));
  auto layers = select_layers(m, {});
  REQUIRE(layers.size() == 10);  // stem, 3 blocks x 2 convs, 2 downsample convs, fc
  std::vector<at::Tensor> before;
  for (auto& l : layers) before.push_back(l.module.attr("weight").toTensor().clone());
  auto masks = l1_unstructured_masks(layers, 0.3);
  apply_masks(m, masks);
  for (size_t i = 0; i < layers.size(); ++i) {
    auto w = layers[i].module.attr("weight").toTensor();
    int64_t k = std::llround(0.3 * w.numel());
    CHECK(zeros_of(layers[i].module) == k);
    // Every kept weight is at least as large as every pruned one.
    auto abs0 = before[i].abs().reshape(-1);
    auto kept = w.reshape(-1).ne(0);
    CHECK(abs0.masked_select(kept).min().item<float>() >= abs0.masked_select(kept.logical_not()).max().item<float>());
  }
}

TEST_CASE("prune: global-unstructured ranks all layers together", "[prune]") {
  auto m = mlopt::load_torchscript(test_data("prune/digits_cnn.pt"));
  auto layers = select_layers(m, {"conv*", "fc1"});
  REQUIRE(layers.size() == 3);
  std::vector<at::Tensor> flat;
  for (auto& l : layers) flat.push_back(l.module.attr("weight").toTensor().abs().reshape(-1));
  auto all = at::cat(flat);
  int64_t k = std::llround(0.6 * all.numel());
  float threshold = std::get<0>(all.sort()).index({k - 1}).item<float>();
  apply_masks(m, global_unstructured_masks(layers, 0.6));
  int64_t zeros = 0;
  for (auto& l : layers) {
    zeros += zeros_of(l.module);
    auto w = l.module.attr("weight").toTensor();
    CHECK(w.abs().max().item<float>() > threshold);
  }
  CHECK(zeros == k);
  // Layers are pruned unevenly: global ranking is not per-layer ranking.
  double s0 = double(zeros_of(layers[0].module)) / layers[0].module.attr("weight").toTensor().numel();
  double s2 = double(zeros_of(layers[2].module)) / layers[2].module.attr("weight").toTensor().numel();
  CHECK(std::abs(s0 - s2) > 0.01);
  // fc2 was not selected and is untouched.
  CHECK(zeros_of(m.attr("fc2").toModule()) == 0);
}

TEST_CASE("prune: ln-structured zeroes whole output channels with the smallest norm", "[prune]") {
  auto m = mlopt::load_torchscript(test_data("prune/digits_cnn.pt"));
  auto layers = select_layers(m, {"conv2"});
  auto w0 = layers[0].module.attr("weight").toTensor().clone();
  apply_masks(m, ln_structured_masks(layers, 0.25, 2));
  auto w = layers[0].module.attr("weight").toTensor();
  auto zero_rows = w.reshape({w.size(0), -1}).abs().sum(1).eq(0);
  CHECK(zero_rows.sum().item<int64_t>() == 16);  // 25% of 64 channels
  auto norms = w0.reshape({w0.size(0), -1}).norm(2, {1});
  CHECK(norms.masked_select(zero_rows).max().item<float>() <= norms.masked_select(zero_rows.logical_not()).min().item<float>());
}
