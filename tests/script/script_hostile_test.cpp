// `script` on hostile __init__ code: integers that leave int64, values that
// contain themselves, sizes and loops beyond the evaluator's budgets. Each is
// one error line naming file:line, never a wrapped number, a signal or minutes
// of work. And a ModuleList of 20000 equal layers scripts with one layer type.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <fstream>

#include "mlopt/core/error.h"
#include "mlopt/script/python_model.h"
#include "support/test_support.h"

using namespace mlopt;
using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;

namespace {

// A model whose __init__ body is `body` (indented 8 spaces), starting at line 7.
std::string model_with_init(const std::string& name, const std::string& body) {
  std::string path = temp_dir("script_hostile") + "/" + name;
  std::ofstream(path) << "import torch\nimport torch.nn as nn\n\n"
                         "class M(nn.Module):\n"
                         "    def __init__(self):\n"
                         "        super().__init__()\n"
                      << body
                      << "\n\n    def forward(self, x):\n"
                         "        return x\n";
  return path;
}

std::string init_error(const std::string& name, const std::string& body) {
  ModelSource source;
  source.path = model_with_init(name, body);
  try {
    compile_python_model(source);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("script hostile: integers are int64, checked, never wrapped", "[script]") {
  auto message = init_error("wrap.py", "        self.fc = nn.Linear(4, 2 ** 64 + 3)");
  CHECK_THAT(message, Catch::StartsWith("wrap.py:7:") || Catch::Contains("/wrap.py:7:"));
  CHECK_THAT(message, Catch::Contains("does not fit in a 64-bit integer"));
  const std::vector<std::string> overflowing = {
      "(-9223372036854775807 - 1) // -1",  // SIGFPE on x86 when unchecked
      "9223372036854775807 + 1", "(-9223372036854775807 - 1) - 1", "4611686018427387904 * 2",
      "-(-9223372036854775807 - 1)", "abs(-9223372036854775807 - 1)", "1 << 63", "3 << 62",
      "2 ** 10 ** 18", "int(1e300)", "sum([9223372036854775807, 1])",
      "99999999999999999999"};
  for (auto& expr : overflowing) {
    INFO(expr);
    message = init_error("overflow.py", "        self.k = " + expr);
    CHECK_THAT(message, Catch::Contains("overflow.py:7:"));
    CHECK_THAT(message, Catch::Contains("64-bit") || Catch::Contains("int"));
    CHECK(message.find('\n') == std::string::npos);
  }
  // In range: Python's results (floor division and modulo take the divisor's sign).
  ModelSource ok;
  ok.path = model_with_init("in_range.py",
                            "        self.a = (-9223372036854775807 - 1) % -1\n"
                            "        self.b = -7 // 2\n"
                            "        self.c = -7 % 3\n"
                            "        self.d = 2 ** 62 + (2 ** 62 - 1)\n"
                            "        self.e = 1 << 62\n"
                            "        self.f = -9 >> 1\n"
                            "        self.g = (6 & 3) | (8 ^ 1)");
  auto module = compile_python_model(ok);
  CHECK(module.attr("a").toInt() == 0);
  CHECK(module.attr("b").toInt() == -4);
  CHECK(module.attr("c").toInt() == 2);
  CHECK(module.attr("d").toInt() == INT64_MAX);
  CHECK(module.attr("e").toInt() == (int64_t(1) << 62));
  CHECK(module.attr("f").toInt() == -5);
  CHECK(module.attr("g").toInt() == (2 | 9));
}

TEST_CASE("script hostile: a module or list that contains itself is one error line", "[script]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"        self.me = self", "contain itself"},
      {"        a = [1]\n        a.append(a)", "cannot contain itself"},
      {"        a = [1]\n        a[0] = a", "cannot contain itself"},
      {"        a = {}\n        a['k'] = a", "cannot contain itself"},
      {"        a = []\n        a += [a]\n", "cannot contain itself"},
      {"        self.layers = nn.ModuleList()\n        self.layers.append(self)", "contain itself"},
      {"        self.add_module('me', self)", "contain itself"},
      {"        a = []\n        self.a = a\n        a.append(self)", "cannot contain itself"},
      {"        a = []\n        for i in range(1000):\n            a = [a]", "nest more than"},
  };
  for (auto& [body, expected] : cases) {
    INFO(body);
    // Through the CLI: a crash would show as a signal, not exit code 1.
    auto r = run_mlopt({"script", model_with_init("cycle.py", body), "-o", temp_dir("script_hostile") + "/c.pt"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("cycle.py:"));
    CHECK_THAT(r.err, Catch::Contains(expected));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("script hostile: a list nested a million levels deep top-down is freed without a crash", "[script]") {
  // Each append adds an empty list (depth 1) to the innermost one, so no insert
  // sees a deep value; freeing the chain must not recurse once per level.
  const std::string body =
      "        a = []\n        b = a\n        for j in range(3):\n            for i in range(900000):\n"
      "                c = []\n                b.append(c)\n                b = c\n        self.lin = nn.Linear(2, 2)";
  auto r = run_mlopt({"script", model_with_init("deep.py", body), "-o", temp_dir("script_hostile") + "/deep.pt"});
  INFO(r.err);
  CHECK((r.exit_code == 0 || r.exit_code == 1));  // compiled, or refused by a budget with one line
  if (r.exit_code == 1) CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("script hostile: sizes and loops beyond the budgets are refused at once", "[script]") {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"        self.n = len(range(10**12))", "budget_range.py:7:", "range() would make 1000000000000 items"},
      {"        self.n = len([0] * 10**10)", "budget_list.py:7:", "10000000000 items"},
      {"        self.n = len('a' * 10**12)", "budget_str.py:7:", "1000000000000 bytes"},
      {"        self.n = len([sum(range(10**5)) for i in range(10**6)])", "budget_comp.py:7:", "runs too long"},
      {"        n = 0\n        while True:\n            n += 1", "budget_loop.py:", "runs too long"},
      {"        a = [0]\n        for i in range(40):\n            a = a + a", "budget_doubling.py:9:", "items"},
      {"        s = 'ab'\n        for i in range(60):\n            s = s + s", "budget_str2.py:9:", "bytes"},
      {"        a = [0]\n        for i in range(40):\n            a.extend(a)", "budget_extend.py:9:", "items"},
  };
  for (auto& [body, where, expected] : cases) {
    INFO(body);
    std::string name = where.substr(0, where.find(':'));
    std::string message = init_error(name, body);
    CHECK_THAT(message, Catch::Contains(where));
    CHECK_THAT(message, Catch::Contains(expected));
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("script hostile: 20000 layers in a ModuleList script with one shared layer type", "[script]") {
  std::string path = temp_dir("script_hostile") + "/deep_list.py";
  std::ofstream(path) << "import torch\nimport torch.nn as nn\n\n"
                         "class Deep(nn.Module):\n"
                         "    def __init__(self, n: int = 20000):\n"
                         "        super().__init__()\n"
                         "        self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(n)])\n"
                         "\n"
                         "    def forward(self, x):\n"
                         "        for layer in self.layers:\n"
                         "            x = layer(x)\n"
                         "        return x\n";
  ModelSource source;
  source.path = path;
  auto module = compile_python_model(source);
  auto layers = module.attr("layers").toModule();
  size_t count = 0;
  std::set<const c10::ClassType*> types;
  for (const auto& child : layers.children()) {
    ++count;
    types.insert(child.type().get());
  }
  CHECK(count == 20000);
  // Equal layers share one class type (as torch.jit.script's type sharing
  // does): one type to compile and to save, which keeps the whole linear.
  CHECK(types.size() == 1);
}
