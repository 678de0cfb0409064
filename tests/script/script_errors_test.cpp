// `script` errors: one line naming the file:line, the weight entry or the flag.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <fstream>

#include "mlopt/core/error.h"
#include "mlopt/script/python_model.h"
#include "support/test_support.h"

using namespace mlopt;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

std::string write_model(const std::string& name, const std::string& text) {
  std::string path = temp_dir("script_errors") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string compile_error(const ModelSource& source) {
  try {
    compile_python_model(source);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

ModelSource from_text(const std::string& name, const std::string& text, const std::string& class_name = "") {
  ModelSource source;
  source.path = write_model(name, text);
  source.class_name = class_name;
  return source;
}

constexpr const char* kHeader = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n";

}  // namespace

TEST_CASE("script errors: unsupported construct in forward names file:line", "[script]") {
  auto source = from_text("bad_forward.py", std::string(kHeader) +
                                                "class M(nn.Module):\n"
                                                "    def __init__(self):\n"
                                                "        super().__init__()\n"
                                                "        self.fc = nn.Linear(4, 4)\n"
                                                "\n"
                                                "    def forward(self, x):\n"
                                                "        y = self.fc(x)\n"
                                                "        return undefined_helper(y)\n");
  std::string message = compile_error(source);
  CHECK_THAT(message, Catch::Contains("bad_forward.py:12"));
  CHECK_THAT(message, Catch::Contains("undefined_helper"));
}

TEST_CASE("script errors: unsupported layer and __init__ construct name file:line", "[script]") {
  auto source = from_text("bad_layer.py", std::string(kHeader) +
                                              "class M(nn.Module):\n"
                                              "    def __init__(self):\n"
                                              "        super().__init__()\n"
                                              "        self.t = nn.FractionalMaxPool2d(3, output_size=2)\n"
                                              "    def forward(self, x):\n"
                                              "        return x\n");
  std::string message = compile_error(source);
  CHECK_THAT(message, Catch::Contains("bad_layer.py:8"));
  CHECK_THAT(message, Catch::Contains("nn.FractionalMaxPool2d is not supported"));

  auto lambda = from_text("bad_syntax.py", std::string(kHeader) +
                                               "class M(nn.Module):\n"
                                               "    def __init__(self):\n"
                                               "        super().__init__()\n"
                                               "        self.f = lambda x: x\n");
  // a lambda builds layers in __init__; stored on the module, forward could not call it
  CHECK_THAT(compile_error(lambda), Catch::Contains("bad_syntax.py:8: attribute 'f': a lambda cannot be stored on a module"));
}

TEST_CASE("script errors: missing, unexpected and mis-shaped weights are all listed", "[script]") {
  ModelSource source;
  source.path = source_path("examples/models/mlp.py");
  source.class_name = "MLP";
  source.init = {"hidden=24", "depth=3"};
  source.weights = test_data("script/mlp.pth");  // made with hidden=32, depth=2
  std::string message = compile_error(source);
  CHECK_THAT(message, Catch::Contains("missing 'body.4.weight'"));
  CHECK_THAT(message, Catch::Contains("'body.0.weight' has shape [32, 16], the model expects [24, 16]"));

  source.init = {"depth=1"};
  message = compile_error(source);
  CHECK_THAT(message, Catch::Contains("unexpected 'body.2.weight'"));
}

TEST_CASE("script errors: bad --init and unknown class", "[script]") {
  ModelSource source;
  source.path = source_path("examples/models/mlp.py");
  source.class_name = "MLP";
  source.init = {"widht=3"};
  CHECK_THAT(compile_error(source), Catch::Contains("has no parameter 'widht'"));
  source.init = {"hidden=abc"};
  CHECK_THAT(compile_error(source), Catch::Contains("must be a Python literal"));
  source.init = {"hidden"};
  CHECK_THAT(compile_error(source), Catch::Contains("expected key=value"));
  source.init = {"hidden='wide'"};
  CHECK_THAT(compile_error(source), Catch::Contains("nn.Linear"));
  source.init = {};
  source.class_name = "Nope";
  CHECK_THAT(compile_error(source), Catch::Contains("no class 'Nope' (classes in the file: MLP)"));
}
