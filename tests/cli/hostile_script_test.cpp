// Hostile `.py` models through `mlopt script`: parameters too large to
// allocate, and source nested or recursive enough to overflow a stack. Each
// must be exit 1 with one `mlopt: error:` line naming the file and line (and
// the layer), with no crash and no large resident memory.
#include <catch2/catch.hpp>

#include <string>

#include "mlopt/core/atomic_write.h"
#include "support/guarded_run.h"
#include "support/test_support.h"

using namespace mlopt::test;

namespace {

constexpr long kScriptMaxRssKb = 1024 * 1024;  // LibTorch itself takes ~200 MB; the refused tensors would take TiB

const std::string kHead =
    "import torch\nfrom torch import nn\n\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n";
const std::string kForward = "    def forward(self, x):\n        return x\n";

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Writes `source` as NAME.py, scripts it, and checks for a clean refusal
// whose one line contains `expected`.
void check_refused(const std::string& name, const std::string& source, const std::string& expected) {
  std::string dir = temp_dir("hostile-script");
  std::string path = dir + "/" + name + ".py";
  mlopt::write_file_atomically(path, source);
  auto o = run_mlopt_guarded({"script", path, "--class", "M", "-o", dir + "/out.pt"});
  INFO(name << "\nstderr:\n" << o.err);
  CHECK(o.exit_code == 1);
  REQUIRE(o.error_lines.size() == 1);
  CHECK_THAT(o.error_lines[0], Catch::Contains(name + ".py:") && Catch::Contains(expected));
  CHECK(o.max_rss_kb < kScriptMaxRssKb);
}

}  // namespace

TEST_CASE("hostile script: layers and tensors too large to allocate are refused naming file, line and layer", "[cli][hardening][script]") {
  check_refused("huge_linear", kHead + "        self.fc = nn.Linear(10**6, 10**6)\n" + kForward,
                "huge_linear.py:7: nn.Linear: its parameters/buffers would take 3.6 TiB");
  check_refused("huge_zeros", kHead + "        self.register_buffer('b', torch.zeros(10**12))\n" + kForward,
                "huge_zeros.py:7: torch.zeros(): its parameters/buffers would take 3.6 TiB");
  check_refused("huge_conv", kHead + "        self.c = nn.Conv2d(100000, 100000, 9)\n" + kForward,
                "huge_conv.py:7: nn.Conv2d:");
  check_refused("huge_embedding", kHead + "        self.e = nn.Embedding(10**9, 4096)\n" + kForward,
                "huge_embedding.py:7: nn.Embedding:");
  check_refused("huge_arange", kHead + "        self.register_buffer('b', torch.arange(10**13))\n" + kForward,
                "huge_arange.py:7: torch.arange():");
  check_refused("negative_linear", kHead + "        self.fc = nn.Linear(-5, 3)\n" + kForward,
                "negative_linear.py:7: nn.Linear: a tensor of shape [3, -5] has a negative dimension");
}

TEST_CASE("hostile script: deeply nested source is refused before the parser overflows its stack", "[cli][hardening][script]") {
  check_refused("parens", kHead + "        self.k = " + repeat("(", 10000) + "1" + repeat(")", 10000) + "\n" + kForward,
                "parens.py:7: brackets nest more than 100 deep");
  check_refused("unary", kHead + "        self.k = " + repeat("-", 20000) + "1\n" + kForward,
                "unary.py:7: brackets, prefix operators");
  check_refused("power", kHead + "        self.k = 1" + repeat(" ** 1", 5000) + "\n" + kForward, "power.py:7:");
  std::string blocks;
  for (int i = 0; i < 150; ++i) blocks += std::string(8 + i, ' ') + "if True:\n";
  check_refused("blocks", kHead + blocks + std::string(158, ' ') + "self.k = 1\n" + kForward,
                "indented blocks nest more than 100 deep");
  // Left-deep chains parse in a loop, but the compiler walks them recursively.
  check_refused("chain", kHead + "        self.k = 1\n    def forward(self, x):\n        return x" + repeat(" + x", 20000) + "\n",
                "chain.py:9: the expression or block nests more than 400 levels deep");
}

TEST_CASE("hostile script: a module that instantiates itself is a recursion error", "[cli][hardening][script]") {
  check_refused("self_instantiating", kHead + "        self.inner = M()\n" + kForward, "recursion too deep");
  check_refused("mutual",
                kHead + "        self.n = N()\n" + kForward +
                    "\nclass N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.m = M()\n" +
                    kForward,
                "recursion too deep");
}

TEST_CASE("hostile script: nesting just inside the limits still compiles", "[cli][hardening][script]") {
  std::string dir = temp_dir("hostile-script-ok");
  std::string path = dir + "/fine.py";
  mlopt::write_file_atomically(path, kHead + "        self.k = " + repeat("(", 90) + "1" + repeat(")", 90) + "\n" +
                                         "    def forward(self, x):\n        return x" + repeat(" + x", 300) + "\n");
  auto o = run_mlopt_guarded({"script", path, "--class", "M", "-o", dir + "/out.pt"});
  INFO(o.err);
  CHECK(o.exit_code == 0);
}
