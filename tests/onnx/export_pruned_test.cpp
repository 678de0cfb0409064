// Channel-pruned models (tests/data/prune) export to ONNX and run in ONNX
// Runtime with the pruned model's outputs: both the in-memory module that
// `prune -o x.onnx` exports and a pruned .pt saved and loaded again, as
// `export-onnx pruned.pt` sees it. Channel pruning inlines the forward and
// folds None biases into constants; the exporter must lower that graph too.
#include <catch2/catch.hpp>

#include "mlopt/core/model_io.h"
#include "mlopt/onnx/export.h"
#include "mlopt/prune/channel_prune.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using mlopt::test::compare_with_ort;

TEST_CASE("onnx: channel-pruned CNNs export and match ONNX Runtime in memory and reloaded", "[onnx-ort][prune]") {
  auto fixture = GENERATE(std::string("residual_cnn"), std::string("mobilenet_cnn"), std::string("concat_cnn"));
  SECTION(fixture) {
    auto module = mlopt::load_torchscript(mlopt::test::test_data("prune/" + fixture + ".pt"));
    int64_t params_before = mlopt::parameter_count(module);
    torch::manual_seed(0);
    mlopt::pruning::prune_channels(module, {torch::randn({2, 3, 16, 16})}, 0.5, 1, {});
    REQUIRE(mlopt::parameter_count(module) < params_before);

    // In memory, as `mlopt prune --method channel -o out.onnx` exports it.
    auto r = compare_with_ort(module, {"x:batch=2x3x16x16"}, {3});
    REQUIRE(r.max_rel_error.size() == 2);
    for (double e : r.max_rel_error) CHECK(e < 1e-4);
    // conv/BN folding worked on the pruned graph (concat_cnn's BN follows a concat: it stays)
    if (fixture != "concat_cnn") CHECK(r.ops.count("BatchNormalization") == 0);

    // Saved and loaded again, as `mlopt export-onnx pruned.pt` sees it.
    std::string path = mlopt::test::temp_dir("onnx-pruned") + "/pruned.pt";
    module.save(path);
    auto reloaded = mlopt::load_torchscript(path);
    auto r2 = compare_with_ort(reloaded, {"x:batch=2x3x16x16"}, {3});
    for (double e : r2.max_rel_error) CHECK(e < 1e-4);
  }
}
