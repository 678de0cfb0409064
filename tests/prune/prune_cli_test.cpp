#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

TEST_CASE("prune cli: --amount outside 0 to 1 (exclusive) is a usage error", "[prune]") {
  auto out = temp_dir("prune_cli") + "/x.pt";
  for (std::string a : {"1", "1.5", "-0.1"}) {
    auto r = run_mlopt({"prune", test_data("prune/digits_cnn.pt"), "--amount", a, "-o", out});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("mlopt: error: --amount") && Catch::Contains("[0, 1)"));
  }
}

TEST_CASE("prune cli: a --layers pattern matching no layer names the pattern and the layers", "[prune]") {
  auto r = run_mlopt({"prune", test_data("prune/digits_cnn.pt"), "--layers", "decoder.*", "-o",
                      temp_dir("prune_cli") + "/x.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("'decoder.*' matches no prunable layer") && Catch::Contains("conv1"));
}

TEST_CASE("prune cli: a model without prunable layers is an error", "[prune]") {
  auto r = run_mlopt({"prune", test_data("prune/no_layers.pt"), "-o", temp_dir("prune_cli") + "/x.pt"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::StartsWith("mlopt: error: the model has no prunable layer"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("prune cli: channel pruning needs --input", "[prune]") {
  auto r = run_mlopt({"prune", test_data("prune/digits_cnn.pt"), "--method", "channel", "-o",
                      temp_dir("prune_cli") + "/x.pt"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--input is required"));
}

TEST_CASE("prune cli: l1-unstructured .pt artifact has exact sparsity and reproduces the masked model", "[prune]") {
  auto out = temp_dir("prune_cli") + "/l1.pt";
  auto r = run_mlopt({"prune", test_data("prune/residual_cnn.pt"), "--method", "l1-unstructured", "--amount", "0.4",
                      "--input", "x:2x3x16x16", "-o", out, "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["artifact_verified"] == true);
  CHECK(j["layers"].size() == 10);
  auto original = mlopt::load_torchscript(test_data("prune/residual_cnn.pt"));
  auto pruned = mlopt::load_torchscript(out);
  CHECK(pruned.parameters().size() == original.parameters().size());  // no mask parameters left
  // Mask the original independently (k smallest magnitudes per layer) and compare outputs.
  torch::NoGradGuard no_grad;
  for (const auto& layer : j["layers"]) {
    auto name = layer["name"].get<std::string>();
    torch::jit::Module m = original;
    for (size_t s = 0, d; s <= name.size(); s = d + 1) {
      d = name.find('.', s);
      m = m.attr(name.substr(s, d == std::string::npos ? d : d - s)).toModule();
      if (d == std::string::npos) break;
    }
    auto w = m.attr("weight").toTensor();
    int64_t k = std::llround(0.4 * w.numel());
    CHECK(layer["zeros"].get<int64_t>() == k);
    auto order = std::get<1>(w.abs().reshape(-1).sort(true, 0, false));
    w.reshape(-1).index_fill_(0, order.slice(0, 0, k), 0.0);
  }
  auto x = torch::randn({2, 3, 16, 16});
  CHECK(at::allclose(mlopt::run_module(pruned, {x})[0], mlopt::run_module(original, {x})[0], 1e-5, 1e-6));
}

TEST_CASE("prune cli: channel pruning writes a smaller .ptl with the same output shape", "[prune]") {
  auto out = temp_dir("prune_cli") + "/mobilenet.ptl";
  auto r = run_mlopt({"prune", test_data("prune/mobilenet_cnn.pt"), "--method", "channel", "--amount", "0.5",
                      "--input", "x:1x3x16x16", "-o", out, "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["outputs_same_shape"] == true);
  CHECK(j["artifact_verified"] == true);
  CHECK(j["totals"]["param_ratio"].get<double>() > 3.0);
  // FLOPs from the profiler's counter: channel pruning at 0.5 keeps about a quarter of the conv work.
  double flops_before = j["totals"]["flops_before"].get<double>(), flops_after = j["totals"]["flops_after"].get<double>();
  CHECK(flops_after > 0);
  CHECK(flops_before > 2.5 * flops_after);
  CHECK(j["totals"]["flops_ratio"].get<double>() == Approx(flops_before / flops_after));
  CHECK(j["totals"]["latency_ms_after"].get<double>() > 0);
}

TEST_CASE("prune cli: channel pruning a traced ConvNeXt-style model shrinks its FLOPs with its linears", "[prune]") {
  // Its FLOPs were counted on LibTorch's optimized graph, whose op callbacks see wrong shapes: 1.00x.
  auto out = temp_dir("prune_convnext") + "/pruned.pt";
  auto r = run_mlopt({"prune", test_data("prune/convnext_traced.pt"), "--method", "channel", "--amount", "0.3",
                      "--input", "x:batch=1x3x32x32", "--json", "-o", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto t = nlohmann::json::parse(r.out)["totals"];
  CHECK(t["flops_before"].get<double>() == 2 * (16 * 64 * 48) + 2 * (2 * 1024 * 49 + 2 * 2 * 64 * 16 * 64) + 2 * 10 * 16);
  CHECK(t["flops_ratio"].get<double>() > 1.2);
  CHECK(t["param_ratio"].get<double>() > 1.2);
}

TEST_CASE("prune cli: a model reading an Optional[List[float]] attribute in forward prunes", "[prune]") {
  // torchvision's detection transform keeps its image mean so; folding it typed the constant `float[]?`,
  // which LibTorch's constant propagation cannot read.
  auto out = temp_dir("prune_optional") + "/pruned.pt";
  auto r = run_mlopt({"prune", test_data("prune/normalized_cnn.pt"), "--method", "channel", "--amount", "0.3",
                      "--input", "x:batch=1x3x16x16", "--json", "-o", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["totals"]["param_ratio"].get<double>() > 1.1);
}

TEST_CASE("prune cli: a DenseNet block growing its feature list by append prunes, every concat read right",
          "[prune]") {
  // torchvision's _DenseBlock: `features.append(layer(features))`, each layer concatenating the list as it is
  // then. Reading only the list's first element made a layout of 16 channels for a concat of 24.
  auto dir = temp_dir("prune_dense_list");
  auto r = run_mlopt({"prune", test_data("prune/dense_list_cnn.pt"), "--method", "channel", "--amount", "0.3",
                      "--input", "x:batch=2x3x16x16", "--json", "-o", dir + "/pruned.pt"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["artifact_verified"] == true);
  CHECK(j["totals"]["param_ratio"].get<double>() > 1.3);
  CHECK(j["totals"]["flops_ratio"].get<double>() > 1.2);
  // The pruned archive runs at another batch size and keeps the output shape.
  auto pruned = torch::jit::load(dir + "/pruned.pt");
  CHECK(pruned.forward({torch::randn({3, 3, 16, 16})}).toTensor().sizes() == std::vector<int64_t>{3, 10});
}
