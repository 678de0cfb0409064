// `script` on the Python that model files use in practice, unchanged: *args /
// **kwargs, lambda and functools.partial as layer factories, f-strings,
// typing annotations, static/class methods and properties, dict
// comprehensions; ModuleDict / ParameterList / ParameterDict; F.interpolate,
// einsum, split/chunk/unbind and scaled_dot_product_attention in forward;
// models split across files; checkpoint keys and partial state_dicts.
// Outputs are compared with PyTorch eager on the same weights
// (fixtures: tests/fixtures/make_script_extra_fixtures.py).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <fstream>

#include "mlopt/core/error.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
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

ModelSource fixture(const std::string& stem, const std::string& cls) {
  ModelSource source;
  source.path = test_data("script/" + stem + ".py");
  source.class_name = cls;
  source.weights = test_data("script/" + stem + ".pth");
  return source;
}

std::string error_of(const ModelSource& source, const PythonModelOptions& options = {}) {
  try {
    compile_python_model(source, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("script language: *args/**kwargs, lambda, partial, f-strings, typing, static/class methods match eager",
          "[script]") {
  CHECK(relative_error_to_eager(fixture("language_features", "LangNet"), "language_features.npz") < 1e-5);
}

TEST_CASE("script language: getattr/setattr/hasattr on self, kwargs.pop, math.inf/tau, typing in forward's "
          "signature, tuple unpacking and a constant default match eager",
          "[script]") {
  // With language_features and kwargs_lambda_partial, every item of the Language list is in a fixture.
  CHECK(relative_error_to_eager(fixture("language_audit", "AuditNet"), "language_audit.npz") < 1e-5);
}

TEST_CASE("script language: a file with **kwargs, lambda factories, partial, f-strings and ModuleDict matches eager",
          "[script]") {
  CHECK(relative_error_to_eager(fixture("kwargs_lambda_partial", "Net"), "kwargs_lambda_partial.npz") < 1e-5);
}

TEST_CASE("script forward: lambdas, torch functions and functools.partial stored in __init__ are called in forward, "
          "unused *args/**kwargs of forward and helpers are dropped", "[script]") {
  CHECK(relative_error_to_eager(fixture("forward_callables", "CallableNet"), "forward_callables.npz") < 1e-5);
}

TEST_CASE("script containers: ModuleDict, ParameterList, ParameterDict and a module without forward match eager",
          "[script]") {
  auto source = fixture("containers_dict", "DictNet");
  CHECK(relative_error_to_eager(source, "containers_dict.npz") < 1e-5);
  std::set<std::string> names;
  for (const auto& p : compile_python_model(source).named_parameters(true)) names.insert(p.name);
  for (const char* name : {"stem.conv.weight", "branches.right.bias", "gains.1", "bias.b", "out.heads.box.weight"}) {
    INFO(name);
    CHECK(names.count(name) == 1);
  }
}

TEST_CASE("script forward: F.interpolate (every mode), einsum, split/chunk/unbind and scaled_dot_product_attention "
          "match eager",
          "[script]") {
  CHECK(relative_error_to_eager(fixture("forward_functions", "ForwardFunctions"), "forward_functions.npz") < 1e-5);
}

TEST_CASE("script files: a model split across files (relative, package and --path imports) matches eager", "[script]") {
  ModelSource source;
  source.path = test_data("script/multifile/net.py");
  source.weights = test_data("script/multifile.pth");
  PythonModelOptions options;
  options.paths = {test_data("script/multifile_lib")};
  CHECK(relative_error_to_eager(source, "multifile.npz", options) < 1e-5);
  // Without --path, the import it cannot find is named.
  CHECK_THAT(error_of(source), Catch::Contains("import of 'sharedlib.act.Swish' is not supported"));
  // Imports outside torch/typing/math/functools/collections and the model's files are refused by name.
  std::string outside = write_model_file("outside.py",
                                    "import numpy as np\nimport torch.nn as nn\n\nclass M(nn.Module):\n"
                                    "    def forward(self, x):\n        return x\n");
  ModelSource plain;
  plain.path = outside;
  CHECK_THAT(error_of(plain), Catch::Contains("import of 'numpy' is not supported"));
}

TEST_CASE("script files: module imports (import pkg.mod [as m], from pkg import mod) reach classes, functions and "
          "constants of the model's files", "[script]") {
  ModelSource source;
  source.path = test_data("script/multifile/net_modules.py");  // SplitNet through blocks.X, L.X, models.layers.X
  source.weights = test_data("script/multifile.pth");
  PythonModelOptions options;
  options.paths = {test_data("script/multifile_lib")};
  CHECK(relative_error_to_eager(source, "multifile.npz", options) < 1e-5);
  CHECK_THAT(error_of(source), Catch::Contains("net_modules.py: import of 'sharedlib.act' is not supported"));
  // A module outside the model's files is refused by name, whichever form imports it.
  for (const char* line : {"import numpy.linalg\n", "import numpy.linalg as la\n", "from numpy import linalg\n"}) {
    ModelSource outside;
    outside.path = write_model_file("outside_module.py", std::string(line) +
                                                        "import torch.nn as nn\n\nclass M(nn.Module):\n"
                                                        "    def forward(self, x):\n        return x\n");
    INFO(line);
    CHECK_THAT(error_of(outside), Catch::Contains("import of 'numpy.linalg' is not supported"));
  }
  // A name the module does not have is named.
  std::string dir = temp_dir("script_language_modules");
  std::ofstream(dir + "/parts.py") << "import torch.nn as nn\n\nWIDTH = 4\n";
  std::ofstream(dir + "/model.py") << "import torch.nn as nn\nimport parts\n\nclass M(nn.Module):\n"
                                      "    def __init__(self):\n        super().__init__()\n"
                                      "        self.fc = parts.Missing(parts.WIDTH)\n\n"
                                      "    def forward(self, x):\n        return self.fc(x)\n";
  ModelSource missing;
  missing.path = dir + "/model.py";
  CHECK_THAT(error_of(missing), Catch::Contains("model.py:7: 'parts.Missing' is not a class or function of the model's files"));
  // A base class, isinstance and a forward helper through `import parts`.
  std::ofstream(dir + "/parts.py") << "import torch.nn as nn\n\nWIDTH = 4\n\ndef double(x):\n    return x * 2\n\n"
                                      "class Base(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                                      "        self.fc = nn.Linear(WIDTH, WIDTH)\n\n"
                                      "    def forward(self, x):\n        return double(self.fc(x))\n";
  std::ofstream(dir + "/derived.py") << "import torch.nn as nn\nimport parts\n\nclass M(parts.Base):\n"
                                        "    def __init__(self):\n        super().__init__()\n"
                                        "        assert isinstance(self, parts.Base)\n"
                                        "        self.out = nn.Linear(parts.WIDTH, 2)\n\n"
                                        "    def forward(self, x):\n        return self.out(parts.double(self.fc(x)))\n";
  ModelSource derived;
  derived.path = dir + "/derived.py";
  derived.class_name = "M";
  auto module = compile_python_model(derived);
  auto y = run_module(module, {torch::ones({3, 4})})[0];
  CHECK(y.sizes() == at::IntArrayRef({3, 2}));
  CHECK(module.hasattr("fc"));

  // Two files defining the same name: one namespace, so the second is left out and the CLI says so.
  std::ofstream(dir + "/other.py") << "import torch.nn as nn\n\nclass Base(nn.Module):\n    pass\n";
  std::ofstream(dir + "/both.py") << "import torch.nn as nn\nimport parts\nimport other\n\nclass M(parts.Base):\n"
                                     "    pass\n";
  // (imports load in name order: other's Base, which has no forward, is kept)
  auto both = run_mlopt({"script", dir + "/both.py", "--class", "M", "-o", dir + "/both.pt"});
  CHECK_THAT(both.err, Catch::Contains("parts.py:8: class Base is also defined at other.py:3; the model's files share "
                                       "one namespace, that one is used"));
}

TEST_CASE("script weights: --weights-key picks the checkpoint entry, --strict false loads a partial state_dict",
          "[script]") {
  ModelSource source;
  source.path = source_path("examples/models/mlp.py");
  source.class_name = "MLP";
  source.weights = test_data("script/mlp_checkpoint_ema.pth");
  PythonModelOptions options;
  CHECK_THAT(error_of(source, options), Catch::Contains("mlp_checkpoint_ema.pth"));
  options.weights_key = "ema.model";
  CHECK(relative_error_to_eager(source, "mlp.npz", options) < 1e-5);
  options.weights_key = "ema.missing";
  CHECK_THAT(error_of(source, options), Catch::Contains("no entry 'missing'"));

  std::string out = temp_dir("script_language") + "/partial.pt";
  auto strict = run_mlopt({"script", source.path, "--class", "MLP", "--weights", test_data("script/mlp_partial.pth"),
                           "-o", out});
  CHECK(strict.exit_code == 1);
  CHECK_THAT(strict.err, Catch::Contains("missing 'head.weight'"));
  auto partial = run_mlopt({"script", source.path, "--class", "MLP", "--weights", test_data("script/mlp_partial.pth"),
                            "--strict", "false", "-o", out});
  INFO(partial.err);
  CHECK(partial.exit_code == 0);
  CHECK_THAT(partial.err, Catch::Contains("stayed at their initialization"));
  CHECK_THAT(partial.err, Catch::Contains("head.bias, head.weight"));
  auto keyed = run_mlopt({"script", source.path, "--class", "MLP", "--weights", test_data("script/mlp_checkpoint_ema.pth"),
                          "--weights-key", "ema.model", "-o", out});
  INFO(keyed.err);
  CHECK(keyed.exit_code == 0);
}

TEST_CASE("script language: lambda and *args in forward are named, not parser noise", "[script]") {
  ModelSource source;
  source.path = write_model_file("forward_lambda.py",
                            "import torch.nn as nn\n\nclass M(nn.Module):\n"
                            "    def forward(self, x, *args):\n        f = lambda y: y * 2\n        return f(x) + args[0]\n");
  std::string message = error_of(source);
  CHECK_THAT(message, Catch::Contains("forward_lambda.py:4"));
  CHECK_THAT(message, Catch::Contains("forward_lambda.py:4: *args used in forward() is not supported"));
}

TEST_CASE("script files: models in the style of PyTorch's examples (MNIST, super-resolution with nn.init, "
          "time-sequence LSTMCell/GRUCell/RNNCell) match eager",
          "[script]") {
  for (const char* cls : {"MnistNet", "SuperResolutionNet", "Sequence"}) {
    INFO(cls);
    ModelSource source;
    source.path = test_data("script/examples_style.py");
    source.class_name = cls;
    source.weights = test_data(std::string("script/examples_style_") + cls + ".pth");
    CHECK(relative_error_to_eager(source, std::string("examples_style_") + cls + ".npz") < 1e-5);
  }
}

TEST_CASE("script layers: nn.TransformerEncoder over nn.TransformerEncoderLayer (post- and pre-norm, relu and "
          "gelu) matches eager",
          "[script]") {
  CHECK(relative_error_to_eager(fixture("transformer_encoder", "TransformerClassifier"), "transformer_encoder.npz") < 1e-5);
}

TEST_CASE("script layers: pooling in 1-3 dims, nn.RNN, Bilinear, EmbeddingBag, distances, LocalResponseNorm, "
          "ChannelShuffle and Upsampling*2d match eager",
          "[script]") {
  CHECK(relative_error_to_eager(fixture("pooling_and_misc_layers", "LayerTour"), "pooling_and_misc_layers.npz") < 1e-5);
}

TEST_CASE("script layers: bad arguments of the newer layers are one line naming the layer", "[script]") {
  auto dir = temp_dir("script_layer_errors");
  for (auto [layer, expected] : std::vector<std::pair<std::string, std::string>>{
           {"nn.RNN(4, 3, nonlinearity='gelu')", "nn.RNN: nonlinearity 'gelu': expected 'tanh' or 'relu'"},
           {"nn.EmbeddingBag(10, 4, mode='median')", "nn.EmbeddingBag: mode 'median': expected 'sum', 'mean' or 'max'"},
           {"nn.AdaptiveMaxPool2d(2, return_indices=True)", "nn.AdaptiveMaxPool2d: return_indices=True is not supported"},
           {"nn.ChannelShuffle(0)", "nn.ChannelShuffle: groups must be positive"}}) {
    std::string path = dir + "/bad.py";
    std::ofstream(path) << "import torch.nn as nn\n\nclass Bad(nn.Module):\n    def __init__(self):\n"
                        << "        super().__init__()\n        self.layer = " << layer << "\n\n"
                        << "    def forward(self, x):\n        return self.layer(x)\n";
    ModelSource source;
    source.path = path;
    source.class_name = "Bad";
    INFO(layer);
    CHECK_THAT(error_of(source), Catch::Matchers::Contains(expected));
  }
}

TEST_CASE("script layers: nn.Transformer and nn.TransformerDecoder (causal mask, pre-norm, gelu, final norm) "
          "match eager",
          "[script]") {
  CHECK(relative_error_to_eager(fixture("transformer_decoder", "Seq2Seq"), "transformer_decoder.npz") < 1e-5);
}

TEST_CASE("script __init__: tensor math (torch.exp/sin/cos, Tensor methods, strided slice assignment) builds a "
          "sinusoidal PositionalEncoding, and the word language model matches eager",
          "[script]") {
  CHECK(relative_error_to_eager(fixture("word_language_model", "TransformerModel"), "word_language_model.npz") < 1e-5);
}

TEST_CASE("script __init__: a torch function or Tensor method LibTorch refuses is one line with file:line", "[script]") {
  auto dir = temp_dir("script_init_torch_errors");
  for (auto [line, expected] : std::vector<std::pair<std::string, std::string>>{
           {"t = torch.exp(torch.zeros(2), 3, 4, 5)", "bad.py:6: torch.exp()"},
           {"t = torch.no_such_function(torch.zeros(2))", "bad.py:6: torch.no_such_function()"},
           {"t = torch.zeros(2).no_such_method()", "bad.py:6: Tensor.no_such_method()"},
           {"t = torch.zeros(4)\n        t[::-1] = 1.0", "bad.py:7: slice step must be positive"},
           {"t = torch.outer(torch.zeros(50000), torch.zeros(50000))", "bad.py:6"}}) {
    std::string path = dir + "/bad.py";
    std::ofstream(path) << "import torch\nimport torch.nn as nn\n\nclass Bad(nn.Module):\n    def __init__(self):\n"
                        << "        " << line << "\n        super().__init__()\n\n"
                        << "    def forward(self, x):\n        return x\n";
    ModelSource source;
    source.path = path;
    source.class_name = "Bad";
    INFO(line);
    auto message = error_of(source);
    CHECK_THAT(message, Catch::Matchers::Contains(expected));
    CHECK(message.find('\n') == std::string::npos);
  }
}
