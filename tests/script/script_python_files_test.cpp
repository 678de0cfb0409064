// `script` on model files and weights as people write and save them:
// trailing commas, training checkpoints, DataParallel prefixes; unsupported
// constructs reported in Python's words, all at once. Outputs are compared with
// PyTorch eager (fixtures: tests/fixtures/make_script_extra_fixtures.py).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <fstream>

#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/python_model.h"
#include "script/eager_compare.h"
#include "support/test_support.h"

using namespace mlopt;
using mlopt::test::relative_error_to_eager;
using mlopt::test::write_model_file;
using mlopt::test::run_mlopt;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

}  // namespace

TEST_CASE("script files: trailing commas everywhere Python allows them match eager", "[script]") {
  ModelSource source;
  source.path = test_data("script/trailing_commas.py");
  source.weights = test_data("script/trailing_commas.pth");
  CHECK(relative_error_to_eager(source, "trailing_commas.npz") < 1e-5);
}

TEST_CASE("script files: --weights finds the state_dict inside a training checkpoint", "[script]") {
  for (const char* file : {"mlp_checkpoint.pth", "mlp_checkpoint_net.pth", "mlp_dataparallel.pth"}) {
    INFO(file);
    ModelSource source;
    source.path = source_path("examples/models/mlp.py");
    source.class_name = "MLP";
    source.weights = test_data(std::string("script/") + file);
    CHECK(relative_error_to_eager(source, "mlp.npz") < 1e-5);
  }
}

TEST_CASE("script files: a DataParallel 'module.' prefix is stripped, and the CLI says so", "[script]") {
  auto r = run_mlopt({"script", source_path("examples/models/mlp.py"), "--class", "MLP", "--weights",
                      test_data("script/mlp_dataparallel.pth"), "-o", temp_dir("script_python_files") + "/dp.pt"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("removed the 'module.' prefix"));
}

TEST_CASE("script files: unsupported constructs are named in Python's words, all in one message", "[script]") {
  std::string path = write_model_file("constructs.py",
                                 "import torch\n"
                                 "import torch.nn as nn\n"
                                 "\n"
                                 "class M(nn.Module):\n"
                                 "    def __init__(self, width=4, **kwargs):\n"
                                 "        super().__init__()\n"
                                 "        try:  # 'yield' in a comment is not a finding\n"
                                 "            self.fc = nn.Linear(width, width)\n"
                                 "        except Exception:\n"
                                 "            pass\n"
                                 "        if (n := width) > 2:\n"
                                 "            self.name = f'fc{width}' + 'yield'\n"
                                 "\n"
                                 "    def forward(self, x):\n"
                                 "        yield self.fc(x)\n");
  ModelSource source;
  source.path = path;
  std::string message;
  try {
    compile_python_model(source);
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK_THAT(message, Catch::Contains("constructs.py:7: try/except is not supported"));
  CHECK_THAT(message, Catch::Contains("constructs.py:11: an assignment expression (:=) is not supported"));
  CHECK_THAT(message, Catch::Contains("constructs.py:15: a generator (yield) is not supported"));
  CHECK(message.find("yield") == message.rfind("yield"));  // once: the comment and the string are not scanned
  CHECK_THAT(message, !Catch::Contains("kwargs"));  // supported now
  CHECK_THAT(message, !Catch::Contains("f-string"));
  CHECK_THAT(message, !Catch::Contains("ident"));
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("script builtins: every __init__ builtin resolves to its group", "[script]") {
  using mlopt::script::find_builtin;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"range", "python"},         {"getattr", "python"},      {"math.sqrt", "python"},
      {"list.append", "containers"}, {"dict.get", "containers"}, {"str.format", "containers"},
      {"module.register_buffer", "module"}, {"module.append", "module"},
      {"torch.nn.Linear", "torch"}, {"torch.zeros", "torch"},   {"tensor.size", "torch"}};
  for (auto& [name, group] : expected) {
    INFO(name);
    auto* found = find_builtin(name);
    REQUIRE(found);
    CHECK(found->group == group);
  }
  CHECK(find_builtin("os.system") == nullptr);
  CHECK(mlopt::script::is_bare_builtin("len"));
  CHECK_FALSE(mlopt::script::is_bare_builtin("noop"));
}

TEST_CASE("script layers: activations, padding, pixel shuffle and Unflatten match eager", "[script]") {
  ModelSource source;
  source.path = test_data("script/more_layers.py");
  source.weights = test_data("script/more_layers.pth");
  CHECK(relative_error_to_eager(source, "more_layers.npz") < 1e-5);
}

TEST_CASE("script model files: a style-transfer net and a DCGAN generator script unchanged and match eager",
          "[script]") {
  for (auto [stem, cls] : {std::pair{"style_transfer_net", "StyleTransferNet"}, std::pair{"dcgan_generator", "Generator"}}) {
    INFO(stem);
    ModelSource source;
    source.path = test_data(std::string("script/") + stem + ".py");
    source.class_name = cls;
    source.weights = test_data(std::string("script/") + stem + ".pth");
    CHECK(relative_error_to_eager(source, std::string(stem) + ".npz") < 1e-5);
  }
}

TEST_CASE("script files: classes derived from user classes inherit and override __init__, forward and helpers",
          "[script]") {
  ModelSource source;
  source.path = test_data("script/inheritance.py");
  source.class_name = "WideClassifier";
  source.weights = test_data("script/inheritance.pth");
  CHECK(relative_error_to_eager(source, "inheritance.npz") < 1e-5);
  // Without --class, the model is the one class no other class uses or derives from.
  ModelSource picked;
  picked.path = source.path;
  CHECK(compile_python_model(picked).type()->name()->name() == "WideClassifier");
  // --init reaches the parameters of an inherited __init__.
  source.class_name = "Classifier";
  source.init = {"hidden=4", "classes=5"};
  source.weights.clear();
  auto module = compile_python_model(source);
  CHECK(run_module(module, {torch::ones({1, 8})})[0].sizes() == at::IntArrayRef{1, 5});
}

TEST_CASE("script files: nn.Sequential(OrderedDict(...)) keeps its children's names and matches eager", "[script]") {
  ModelSource source;
  source.path = test_data("script/ordered_sequential.py");
  source.weights = test_data("script/ordered_sequential.pth");
  CHECK(relative_error_to_eager(source, "ordered_sequential.npz") < 1e-5);
  std::set<std::string> names;
  for (const auto& p : compile_python_model(source).named_parameters(true)) names.insert(p.name);
  CHECK(names.count("features.conv1.weight") == 1);
  CHECK(names.count("classifier.fc.bias") == 1);
}

TEST_CASE("script model files: a VAE in the style of PyTorch's examples returns (recon, mu, logvar) as eager does, "
          "sampling included",
          "[script]") {
  ModelSource source;
  source.path = test_data("script/vae.py");
  source.class_name = "VAE";
  source.init = {"hidden=16", "latent=4"};
  source.weights = test_data("script/vae.pth");
  auto module = compile_python_model(source);
  auto arrays = load_tensors(test_data("script/vae.npz"));
  auto input = mlopt::test::tensor_named(arrays, "input");
  auto relative = [](const at::Tensor& got, const at::Tensor& expected) {
    REQUIRE(got.sizes() == expected.sizes());
    return (got.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>() /
           std::max(expected.abs().max().item<double>(), 1e-12);
  };
  auto outputs = run_module(module, {input});  // eval mode: z is the mean
  REQUIRE(outputs.size() == 3);
  CHECK(relative(outputs[0], mlopt::test::tensor_named(arrays, "output")) < 1e-5);
  CHECK(relative(outputs[1], mlopt::test::tensor_named(arrays, "mu")) < 1e-5);
  CHECK(relative(outputs[2], mlopt::test::tensor_named(arrays, "logvar")) < 1e-5);
  // Train mode samples eps with torch.randn_like: the same draws as eager under the same seed.
  module.train();
  torch::manual_seed(7);
  auto sampled = run_module(module, {input});
  CHECK(relative(sampled[0], mlopt::test::tensor_named(arrays, "train_output_seed7")) < 1e-5);
  CHECK(relative(sampled[0], outputs[0]) > 1e-3);  // the sampling did take place
}
