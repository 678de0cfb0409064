// `script` on every example model: the compiled module with the fixture's
// weights reproduces PyTorch eager's output (fixtures: tests/fixtures/make_script_fixtures.py).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/script/python_model.h"
#include "script/eager_compare.h"
#include "support/test_support.h"

using namespace mlopt;
using mlopt::test::source_path;
using mlopt::test::test_data;

namespace {

struct Case {
  std::string file, class_name, tag;
  std::vector<std::string> init;
};

void check_matches_eager(const Case& c) {
  ModelSource source;
  source.path = source_path("examples/models/" + c.file + ".py");
  source.class_name = c.class_name;
  source.init = c.init;
  source.weights = test_data("script/" + c.tag + ".pth");
  INFO(c.tag);
  CHECK(mlopt::test::relative_error_to_eager(source, c.tag + ".npz") < 1e-5);
}

}  // namespace

TEST_CASE("script: MLP matches PyTorch eager", "[script]") {
  check_matches_eager({"mlp", "MLP", "mlp", {}});
  check_matches_eager({"mlp", "MLP", "mlp_depth3_hidden24", {"depth=3", "hidden=24"}});
}

TEST_CASE("script: digits CNN and student match PyTorch eager", "[script]") {
  check_matches_eager({"digits_cnn", "DigitsCNN", "digits_cnn", {}});
  check_matches_eager({"digits_student", "DigitsStudent", "digits_student", {}});
}

TEST_CASE("script: residual CNN with a block class matches PyTorch eager", "[script]") {
  check_matches_eager({"resnet_small", "ResNetSmall", "resnet_small_widths8-16-32", {"widths=[8, 16, 32]"}});
}

TEST_CASE("script: LSTM classifier matches PyTorch eager", "[script]") {
  check_matches_eager({"lstm_classifier", "LSTMClassifier", "lstm_classifier", {}});
  check_matches_eager({"lstm_classifier", "LSTMClassifier", "lstm_classifier_bidirectional1_num_layers2",
                       {"bidirectional=True", "num_layers=2"}});
}

TEST_CASE("script: control flow (if on tensor values, loop with break) matches PyTorch eager", "[script]") {
  check_matches_eager({"control_flow", "ControlFlow", "control_flow", {}});
  // The loop and branch survive as TorchScript control flow, not a trace.
  ModelSource source;
  source.path = source_path("examples/models/control_flow.py");
  source.class_name = "ControlFlow";
  auto module = compile_python_model(source);
  auto graph = module.get_method("forward").graph();
  bool has_if = false, has_loop = false;
  for (auto* node : graph->nodes()) {
    has_if = has_if || node->kind() == c10::prim::If;
    has_loop = has_loop || node->kind() == c10::prim::Loop;
  }
  CHECK(has_if);
  CHECK(has_loop);
}

TEST_CASE("script: transformer (MultiheadAttention, LayerNorm, GELU, ModuleList) matches PyTorch eager", "[script]") {
  check_matches_eager({"transformer", "TinyTransformer", "transformer", {}});
}

TEST_CASE("script: state_dict names and shapes match PyTorch's", "[script]") {
  ModelSource source;
  source.path = source_path("examples/models/transformer.py");
  auto module = compile_python_model(source);
  std::map<std::string, std::vector<int64_t>> names;
  for (const auto& p : module.named_parameters(true)) names[p.name] = p.value.sizes().vec();
  CHECK(names.at("blocks.1.attn.in_proj_weight") == std::vector<int64_t>{96, 32});
  CHECK(names.at("blocks.0.attn.out_proj.weight") == std::vector<int64_t>{32, 32});
  CHECK(names.at("pos") == std::vector<int64_t>{1, 64, 32});
  CHECK(names.count("embedding.weight") == 1);
}

TEST_CASE("script: without weights, parameters are seeded and initialized like PyTorch", "[script]") {
  ModelSource source;
  source.path = source_path("examples/models/digits_cnn.py");
  source.seed = 7;
  auto a = compile_python_model(source);
  auto b = compile_python_model(source);
  source.seed = 8;
  auto c = compile_python_model(source);
  auto weight = [](torch::jit::Module& m) { return m.attr("fc1").toModule().attr("weight").toTensor(); };
  CHECK(weight(a).equal(weight(b)));
  CHECK(!weight(a).equal(weight(c)));
  // kaiming_uniform(a=sqrt(5)): |w| <= 1/sqrt(fan_in); batch norm starts at identity.
  CHECK(weight(a).abs().max().item<double>() <= 1.0 / std::sqrt(128.0) + 1e-7);
  CHECK(a.attr("bn1").toModule().attr("running_var").toTensor().eq(1).all().item<bool>());
  CHECK(!a.is_training());
}
