// The export's probe runs on meta tensors where it can, and falls back to real
// tensors where it cannot; either way the exported file is the same, byte for
// byte, as the one the real-tensor probe gives.
#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include "mlopt/core/input_spec.h"
#include "mlopt/core/model_io.h"
#include "mlopt/onnx/example_probes.h"
#include "mlopt/onnx/export.h"
#include "mlopt/onnx/lowering.h"
#include "support/test_support.h"

using namespace mlopt::onnx_export;

namespace {

struct Fixture {
  std::string name, spec;
};

// Every export fixture, with the spec its ONNX Runtime test uses.
const std::vector<Fixture> kFixtures = {
    {"resnet_tiny", "x:batch=2x3x32x32"},           {"mobilenetv2_tiny", "x:batch=2x3x32x32"},
    {"mobilenetv3_tiny", "x:batch=2x3x32x32"},      {"efficientnet_tiny", "x:batch=2x3x32x32"},
    {"shufflenet_tiny", "x:batch=2x3x32x32"},       {"squeezenet_tiny", "x:batch=2x3x32x32"},
    {"densenet_tiny", "x:batch=2x3x32x32"},         {"regnet_tiny", "x:batch=2x3x32x32"},
    {"lstm_bidir", "x:batch=2x5x8"},                {"gru_traced", "x:seq=5xbatch=2x8"},
    {"embed_gru", "tokens:batch=2x6:int64:0..50"},  {"transformer_scripted", "x:batch=2xseq=6x16"},
    {"transformer_fused_traced", "x:batch=2x6x16"}, {"transformer_traced", "x:2x6x16"},
    {"mha_scripted", "x:batch=2xseq=5x16"},         {"control_flow", "x:batch=3x8"},
    {"dynamic_shapes", "x:batch=2x8x8"},            {"example_mlp", "x:batch=1x16"},
    {"example_digits_cnn", "x:batch=1x1x8x8"},      {"example_resnet_small", "x:batch=1x3x32x32"},
    {"example_lstm_classifier", "tokens:batch=1x12:int64:0..100"},
    {"example_control_flow", "x:batch=1x8"},        {"example_transformer", "tokens:batch=1x10:int64:0..50"},
};

torch::jit::Module load_fixture(const std::string& name) {
  return mlopt::load_torchscript(mlopt::test::test_data("onnx/" + name + ".pt"));
}

std::string export_bytes(torch::jit::Module& module, const std::string& spec, bool probe_on_meta) {
  mlopt::ModuleExportOptions options;
  options.probe_on_meta = probe_on_meta;
  options.producer_version = "test";
  return mlopt::export_module(module, mlopt::parse_input_specs({spec}), options).SerializeAsString();
}

ProbeRuns probe_fixture(const std::string& name, const std::vector<mlopt::InputSpec>& specs, bool allow_meta) {
  auto module = load_fixture(name);
  auto graph = lower_for_export(module);
  ProbeRequest request;
  request.specs = &specs;
  request.allow_meta = allow_meta;
  return run_probes(*graph, request);
}

}  // namespace

TEST_CASE("example probes: every fixture exports the same file with and without meta tensors", "[onnx]") {
  for (const auto& f : kFixtures) {
    INFO(f.name);
    auto module = load_fixture(f.name);
    CHECK(export_bytes(module, f.spec, true) == export_bytes(module, f.spec, false));
  }
}

TEST_CASE("example probes: the CNN families and transformers probe on meta tensors", "[onnx]") {
  auto specs = mlopt::parse_input_specs({"x:batch=2x3x32x32"});
  for (const char* name : {"resnet_tiny", "mobilenetv2_tiny", "mobilenetv3_tiny", "efficientnet_tiny", "shufflenet_tiny",
                           "squeezenet_tiny", "densenet_tiny", "regnet_tiny"}) {
    INFO(name);
    auto meta = probe_fixture(name, specs, true);
    CHECK(meta.on_meta);
    CHECK(meta.meta_failure.empty());
    // Two runs (batch is dynamic), and outputs with the real run's sizes.
    auto real = probe_fixture(name, specs, false);
    REQUIRE(meta.outputs.size() == 2);
    REQUIRE(real.outputs.size() == 2);
    for (size_t run = 0; run < 2; ++run) {
      CHECK(meta.outputs[run][0].is_meta());
      CHECK(meta.outputs[run][0].sizes() == real.outputs[run][0].sizes());
    }
    CHECK(meta.shapes.infos.size() == real.shapes.infos.size());
  }
  auto seq = mlopt::parse_input_specs({"x:batch=2x6x16"});
  CHECK(probe_fixture("transformer_fused_traced", seq, true).on_meta);
}

TEST_CASE("example probes: a model that reads tensor values falls back to real tensors", "[onnx]") {
  // control_flow branches on x.sum() > 0: a meta tensor has no value to compare.
  auto specs = mlopt::parse_input_specs({"x:batch=3x8"});
  auto runs = probe_fixture("control_flow", specs, true);
  CHECK_FALSE(runs.on_meta);
  CHECK_FALSE(runs.meta_failure.empty());
  REQUIRE(runs.outputs.size() == 2);
  CHECK_FALSE(runs.outputs[0][0].is_meta());
  CHECK(runs.outputs[1][0].size(0) != runs.outputs[0][0].size(0));  // the second run at another batch size
}

TEST_CASE("example probes: a model that fails on real tensors fails with its own error", "[onnx]") {
  // A wrong channel count fails on meta tensors and again on real ones; the
  // error is the real run's, naming the op.
  auto specs = mlopt::parse_input_specs({"x:batch=2x5x32x32"});
  try {
    probe_fixture("resnet_tiny", specs, true);
    FAIL("expected an error");
  } catch (const std::exception& e) {
    std::string what = e.what();
    CHECK(what.find("aten::conv2d") != std::string::npos);
    CHECK(what.find("expected input[2, 5, 32, 32] to have 3 channels") != std::string::npos);
  }
}
