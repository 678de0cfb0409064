// Every fixture model (tests/data/onnx, made by tests/fixtures/make_onnx_fixtures.py)
// is exported and run in ONNX Runtime; outputs match LibTorch's within 1e-4
// (relative to each output's largest magnitude) at the example sizes and, for
// dynamic dims, at a second size.
#include <catch2/catch.hpp>

#include "mlopt/core/input_spec.h"
#include "mlopt/core/model_io.h"
#include "mlopt/onnx/export.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using mlopt::test::compare_with_ort;

namespace {

constexpr double kModelTolerance = 1e-4;

mlopt::test::OrtComparison check_fixture(const std::string& name, const std::vector<std::string>& specs,
                                         std::vector<int64_t> sizes = {5}) {
  auto module = mlopt::load_torchscript(mlopt::test::test_data("onnx/" + name + ".pt"));
  auto r = compare_with_ort(module, specs, sizes);
  REQUIRE(r.max_rel_error.size() == 1 + sizes.size());
  for (double e : r.max_rel_error) CHECK(e < kModelTolerance);
  return r;
}

}  // namespace

TEST_CASE("onnx: CNN families match ONNX Runtime at two batch sizes", "[onnx-ort]") {
  for (const char* name : {"resnet_tiny", "mobilenetv2_tiny", "mobilenetv3_tiny", "efficientnet_tiny", "shufflenet_tiny",
                           "squeezenet_tiny", "densenet_tiny", "regnet_tiny"}) {
    INFO(name);
    auto r = check_fixture(name, {"x:batch=2x3x32x32"});
    // BatchNorm after a convolution is folded away; dropout is gone.
    if (std::string(name) != "densenet_tiny") CHECK(r.ops.count("BatchNormalization") == 0);
    CHECK(r.ops.count("Dropout") == 0);
    CHECK(r.ops.count("Conv") > 0);
  }
}

TEST_CASE("onnx: the batch dim is symbolic in inputs and outputs", "[onnx]") {
  auto module = mlopt::load_torchscript(mlopt::test::test_data("onnx/resnet_tiny.pt"));
  auto model = mlopt::export_module(module, mlopt::parse_input_specs({"x:batch=2x3x32x32"}));
  const auto& in = model.graph().input(0).type().tensor_type().shape();
  CHECK(in.dim(0).dim_param() == "batch");
  CHECK(in.dim(1).dim_value() == 3);
  const auto& out = model.graph().output(0).type().tensor_type().shape();
  CHECK(out.dim(0).dim_param() == "batch");
  CHECK(out.dim(1).dim_value() == 10);
  CHECK(model.producer_name() == "mlopt");
}

TEST_CASE("onnx: LSTM and GRU (multi-layer, bidirectional, batch_first) match ONNX Runtime", "[onnx-ort]") {
  auto lstm = check_fixture("lstm_bidir", {"x:batch=2x5x8"}, {3});
  CHECK(lstm.ops["LSTM"] == 2);
  auto gru = check_fixture("gru_traced", {"x:seq=5xbatch=2x8"}, {3});
  CHECK(gru.ops["GRU"] == 2);
  auto emb = check_fixture("embed_gru", {"tokens:batch=2x6:int64:0..50"}, {4});
  CHECK(emb.ops["Gather"] >= 1);
}

TEST_CASE("onnx: TransformerEncoder (scripted, fused fast path, traced) matches ONNX Runtime", "[onnx-ort]") {
  auto scripted = check_fixture("transformer_scripted", {"x:batch=2xseq=6x16"}, {3});
  CHECK(scripted.ops["LayerNormalization"] == 4);
  CHECK(scripted.ops.count("If") == 0);  // the fast-path checks are decided at export time
  auto fused = check_fixture("transformer_fused_traced", {"x:batch=2x6x16"}, {3});
  CHECK(fused.ops["Softmax"] == 2);
  check_fixture("transformer_traced", {"x:2x6x16"}, {});
}

TEST_CASE("onnx: nn.MultiheadAttention (scripted) matches ONNX Runtime", "[onnx-ort]") {
  auto r = check_fixture("mha_scripted", {"x:batch=2xseq=5x16"}, {3});
  CHECK(r.ops["Softmax"] == 1);
}

TEST_CASE("onnx: scripted control flow becomes If/Loop and matches on both branches", "[onnx-ort]") {
  auto module = mlopt::load_torchscript(mlopt::test::test_data("onnx/control_flow.pt"));
  auto positive = torch::rand({3, 8}) + 0.1;
  auto negative = -torch::rand({3, 8}) - 0.1;
  auto r = compare_with_ort(module, {"x:batch=3x8"}, {5}, 17, {{positive}, {negative}});
  for (double e : r.max_rel_error) CHECK(e < kModelTolerance);
  CHECK(r.ops["If"] == 1);
  CHECK(r.ops["Loop"] == 2);
}

TEST_CASE("onnx: shape arithmetic on dynamic dims runs at other sizes", "[onnx-ort]") {
  auto r = check_fixture("dynamic_shapes", {"x:batch=2x8x8"}, {1, 7});
  CHECK(r.ops["Shape"] >= 1);
}

TEST_CASE("onnx: every opset from 13 to 17 exports and runs", "[onnx-ort]") {
  auto module = mlopt::load_torchscript(mlopt::test::test_data("onnx/transformer_fused_traced.pt"));
  for (int opset = 13; opset <= 17; ++opset) {
    INFO("opset " << opset);
    auto r = compare_with_ort(module, {"x:batch=2x6x16"}, {}, opset);
    CHECK(r.model.opset_import(0).version() == opset);
    for (double e : r.max_rel_error) CHECK(e < kModelTolerance);
  }
}

TEST_CASE("onnx: the example models (examples/models, scripted by Python) match ONNX Runtime", "[onnx-ort]") {
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"example_mlp", "x:batch=1x16"},
      {"example_digits_cnn", "x:batch=1x1x8x8"},
      {"example_digits_student", "x:batch=1x1x8x8"},
      {"example_resnet_small", "x:batch=1x3x32x32"},
      {"example_lstm_classifier", "tokens:batch=1x12:int64:0..100"},
      {"example_control_flow", "x:batch=1x8"},
      {"example_transformer", "tokens:batch=1x10:int64:0..50"}};
  for (auto& [name, spec] : examples) {
    INFO(name);
    check_fixture(name, {spec}, {3});
  }
}

TEST_CASE("onnx: torchvision segmentation models (dict outputs, bilinear upsampling) match at two input sizes",
          "[onnx-ort]") {
  // tests/fixtures/make_segmentation_fixtures.py: FCN (out + aux), DeepLabV3 (ASPP), LRASPP on tiny backbones,
  // trained-like BatchNorm statistics; scripted and traced. Height and width are dynamic too.
  for (const char* model : {"seg_fcn_tiny", "seg_deeplab_tiny", "seg_lraspp_tiny"}) {
    for (const char* form : {"_scripted", "_traced"}) {
      std::string name = std::string(model) + form;
      INFO(name);
      auto r = check_fixture(name, {"x:batch=1x3xh=40xw=48"}, {24});
      CHECK(r.ops["Resize"] >= 1);
      CHECK(r.model.graph().output(0).name() == "out");
      if (std::string(model) == "seg_fcn_tiny") CHECK(r.model.graph().output(1).name() == "aux");
      CHECK(r.model.graph().output(0).type().tensor_type().shape().dim(2).dim_param() == "h");
    }
  }
}
