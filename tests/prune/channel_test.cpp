#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/prune/channel_graph.h"
#include "mlopt/prune/channel_prune.h"
#include "mlopt/prune/graph_prep.h"
#include "support/test_support.h"

using namespace mlopt::pruning;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

std::vector<at::Tensor> example(std::vector<int64_t> shape) {
  torch::manual_seed(7);
  return {torch::randn(shape)};
}

at::Tensor param(torch::jit::Module& m, const std::string& path) {
  torch::jit::Module owner = m;
  std::string rest = path;
  for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    owner = owner.attr(rest.substr(0, dot)).toModule();
    rest = rest.substr(dot + 1);
  }
  return owner.attr(rest).toTensor();
}

// Makes the channels that channel pruning at `amount` will remove exactly
// zero everywhere (all producers' weights, biases and norm scales/shifts of a
// coupled group), so the pruned model must compute the same outputs as this one.
void silence_prunable_channels(torch::jit::Module& m, const std::vector<at::Tensor>& inputs, double amount) {
  auto graph = inline_and_fold_forward(m);
  ChannelGraph channels(m, graph, probe_shapes(m, graph, inputs));
  analyze_channels(channels);
  torch::NoGradGuard no_grad;
  std::map<int, std::vector<int64_t>> silenced;
  for (size_t id = 0; id < channels.space_count(); ++id) {
    int root = channels.find(static_cast<int>(id));
    auto& space = channels.space(root);
    if (silenced.count(root) || space.locked) continue;
    int64_t n = std::min(space.length - 1, static_cast<int64_t>(std::llround(amount * space.length)));
    std::vector<int64_t> picked;
    for (int64_t c = 1; c < space.length && static_cast<int64_t>(picked.size()) < n; c += 2) picked.push_back(c);
    for (int64_t c = 0; c < space.length && static_cast<int64_t>(picked.size()) < n; c += 2) picked.push_back(c);
    silenced[root] = picked;
  }
  for (const auto& slice : channels.slices()) {
    if (slice.dim != 0 || slice.path.find("running_") != std::string::npos) continue;
    int64_t offset = 0;
    for (const auto& seg : slice.layout.segments) {
      auto it = silenced.find(channels.find(seg.space));
      if (it != silenced.end())
        for (int64_t c : it->second) param(m, slice.path).select(0, offset + c).zero_();
      offset += seg.length;
    }
  }
}

struct Case {
  std::string fixture;
  std::vector<int64_t> input;
};

}  // namespace

TEST_CASE("prune: channel pruning removes silenced channels without changing the outputs", "[prune]") {
  auto c = GENERATE(Case{"residual_cnn", {2, 3, 16, 16}}, Case{"mobilenet_cnn", {2, 3, 16, 16}},
                    Case{"concat_cnn", {2, 3, 12, 12}}, Case{"digits_cnn", {3, 1, 8, 8}});
  SECTION(c.fixture) {
    auto inputs = example(c.input);
    auto silenced = mlopt::load_torchscript(test_data("prune/" + c.fixture + ".pt"));
    silence_prunable_channels(silenced, inputs, 0.5);
    auto reference = mlopt::run_module(silenced, inputs);
    std::string path = temp_dir("prune_channel") + "/silenced.pt";
    silenced.save(path);

    auto pruned = mlopt::load_torchscript(path);
    int64_t params_before = mlopt::parameter_count(pruned);
    auto report = prune_channels(pruned, inputs, 0.5, 1, {});
    auto outputs = mlopt::run_module(pruned, inputs);
    REQUIRE(outputs.size() == reference.size());
    CHECK(outputs[0].sizes() == reference[0].sizes());
    CHECK(at::allclose(outputs[0], reference[0], 1e-4, 1e-5));
    // Every group not feeding the output was halved.
    int pruned_groups = 0;
    for (const auto& g : report.groups) {
      if (g.reason.empty()) {
        CHECK(g.channels_after == g.channels_before - std::llround(0.5 * g.channels_before));
        ++pruned_groups;
      }
    }
    CHECK(pruned_groups >= 2);
    CHECK(mlopt::parameter_count(pruned) * 2 < params_before);
    // The pruned module saves and reloads as a TorchScript archive.
    std::string out = temp_dir("prune_channel") + "/pruned.pt";
    mlopt::save_module(pruned, out);
    auto reloaded = mlopt::load_torchscript(out);
    CHECK(at::allclose(mlopt::run_module(reloaded, inputs)[0], outputs[0], 1e-5, 1e-6));
  }
}

TEST_CASE("prune: channel pruning gives the expected smaller shapes", "[prune]") {
  auto inputs = example({1, 3, 16, 16});
  auto m = mlopt::load_torchscript(test_data("prune/residual_cnn.pt"));
  prune_channels(m, inputs, 0.5, 2, {});
  // Stage widths 16, 24, 48 -> 8, 12, 24; the stem is coupled to stage 1 through the identity shortcut.
  CHECK(param(m, "conv1.weight").sizes() == at::IntArrayRef({8, 3, 3, 3}));
  CHECK(param(m, "bn1.running_mean").size(0) == 8);
  CHECK(param(m, "layers.0.conv2.weight").sizes() == at::IntArrayRef({8, 8, 3, 3}));
  CHECK(param(m, "layers.1.conv1.weight").sizes() == at::IntArrayRef({12, 8, 3, 3}));
  CHECK(param(m, "layers.1.downsample.0.weight").sizes() == at::IntArrayRef({12, 8, 1, 1}));
  CHECK(param(m, "layers.2.downsample.1.weight").size(0) == 24);
  CHECK(param(m, "fc.weight").sizes() == at::IntArrayRef({10, 24}));
  CHECK(mlopt::run_module(m, inputs)[0].sizes() == at::IntArrayRef({1, 10}));

  auto mb = mlopt::load_torchscript(test_data("prune/mobilenet_cnn.pt"));
  prune_channels(mb, inputs, 0.5, 1, {});
  // Depthwise convs follow their input: 96 expanded channels -> 48, groups 48.
  CHECK(param(mb, "features.4.conv.3.weight").sizes() == at::IntArrayRef({48, 1, 3, 3}));
  CHECK(param(mb, "features.4.conv.0.weight").sizes() == at::IntArrayRef({48, 8, 1, 1}));
  CHECK(mlopt::run_module(mb, inputs)[0].sizes() == at::IntArrayRef({1, 10}));
}

TEST_CASE("prune: channel pruning on a concat model slices the consumers segment by segment", "[prune]") {
  auto inputs = example({1, 3, 12, 12});
  auto m = mlopt::load_torchscript(test_data("prune/concat_cnn.pt"));
  prune_channels(m, inputs, 0.5, 1, {});
  // stem 16 -> 8, dense convs 8 -> 4: the BN after the concat has 8 + 4 + 4 channels,
  // and the Linear after the flatten reads 16 channels x 16 positions.
  CHECK(param(m, "dense2.bn.weight").size(0) == 12);
  CHECK(param(m, "dense2.conv.weight").sizes() == at::IntArrayRef({4, 12, 3, 3}));
  CHECK(param(m, "bn.weight").size(0) == 16);
  CHECK(param(m, "fc.weight").sizes() == at::IntArrayRef({10, 256}));
}

TEST_CASE("prune: --layers limits channel pruning to the groups of the named layers", "[prune]") {
  auto inputs = example({1, 1, 8, 8});
  auto m = mlopt::load_torchscript(test_data("prune/digits_cnn.pt"));
  prune_channels(m, inputs, 0.5, 1, {"conv2"});
  CHECK(param(m, "conv1.weight").size(0) == 32);
  CHECK(param(m, "conv2.weight").sizes() == at::IntArrayRef({32, 32, 3, 3}));
  CHECK(param(m, "fc1.weight").sizes() == at::IntArrayRef({64, 128}));
}
