// `script` errors: one line naming the file:line, the weight entry or the flag.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <fstream>

#include "mlopt/core/error.h"
#include "mlopt/script/python_model.h"
#include "script/eager_compare.h"
#include "support/test_support.h"

using namespace mlopt;
using mlopt::test::write_model_file;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

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
  source.path = write_model_file(name, text);
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

}

TEST_CASE("script errors: lambdas and *args/**kwargs that forward cannot use name file:line", "[script]") {
  auto model = [](const std::string& name, const std::string& init, const std::string& forward,
                  const std::string& top = "") {
    return from_text(name, std::string(kHeader) + "from functools import partial\n" + top +
                               "class M(nn.Module):\n"
                               "    def __init__(self):\n"
                               "        super().__init__()\n"
                               "        self.fc = nn.Linear(2, 2)\n" +
                               init + forward);
  };
  // line 6 is `class M`; __init__'s extra lines start at 10
  std::string plain_forward = "    def forward(self, x):\n        return self.f(x)\n";
  CHECK_THAT(compile_error(model("star_forward.py", "", "    def forward(self, *inputs):\n        return inputs[0]\n")),
             Catch::Contains("star_forward.py:10: *inputs used in forward() is not supported"));
  CHECK_THAT(compile_error(model("star_kwargs.py", "", "    def forward(self, x, **options):\n"
                                                       "        return x * options['scale']\n")),
             Catch::Contains("star_kwargs.py:10: **options used in forward() is not supported"));
  CHECK_THAT(compile_error(model("star_helper.py", "", "    def forward(self, x):\n        return twice(x, 1)\n",
                                 "def twice(x, *rest):\n    return x * rest[0]\n")),
             Catch::Contains("star_helper.py:6: *rest used in twice() is not supported"));
  CHECK_THAT(compile_error(model("forward_lambda.py", "", "    def forward(self, x):\n        f = lambda t: t * 2\n"
                                                          "        return f(x)\n")),
             Catch::Contains("forward_lambda.py:11: a lambda defined in forward is not supported"));
  CHECK_THAT(compile_error(model("lambda_capture.py", "        mods = [nn.ReLU()]\n        self.f = lambda t: mods[0](t)\n",
                                 plain_forward)),
             Catch::Contains("lambda_capture.py:11: a lambda that forward calls, reading 'mods' (list) from __init__, "
                             "is not supported"));
  CHECK_THAT(compile_error(model("lambda_star.py", "        self.f = lambda *t: t[0]\n", plain_forward)),
             Catch::Contains("lambda_star.py:10: a lambda with *args or tuple parameters that forward calls is not supported"));
  CHECK_THAT(compile_error(model("partial_class.py", "        self.f = partial(nn.Linear, 2)\n", plain_forward)),
             Catch::Contains("partial_class.py:12: calling self.f, a functools.partial of torch.nn.Linear, in forward "
                             "is not supported"));
  // Stored but only used in __init__ (torchvision's self._norm_layer = norm_layer): fine.
  CHECK(compile_error(model("stored_factory.py", "        self.make = partial(nn.Linear, 2)\n        self.g = self.make(2)\n",
                            "    def forward(self, x):\n        return self.g(x)\n")) == "(no error)");
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
