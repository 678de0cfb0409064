// Ops with no int8 kernel between int8 kernels (max_pool3d: S3D) run float,
// requantized with their input's parameters.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "mlopt/core/model_io.h"
#include "support/test_support.h"

#include <torch/script.h>

TEST_CASE("quantize: max_pool3d between int8 3-D convolutions runs float, the rest int8", "[quantize][graph_passes]") {
  std::string dir = mlopt::test::temp_dir("int8-float-ops");
  // S3D's pattern: a pooling on a pooling, and one on a concatenation of int8 branches.
  std::ofstream(dir + "/clip.py") << "import torch\nimport torch.nn as nn\n\nclass Clip(nn.Module):\n"
                                     "    def __init__(self):\n        super().__init__()\n"
                                     "        self.stem = nn.Conv3d(3, 8, 3, padding=1)\n"
                                     "        self.pool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))\n"
                                     "        self.branch_pool = nn.MaxPool3d(3, stride=1, padding=1)\n"
                                     "        self.left = nn.Conv3d(8, 8, 1)\n"
                                     "        self.right = nn.Conv3d(8, 8, 1)\n"
                                     "        self.out_pool = nn.MaxPool3d(2, stride=2)\n"
                                     "        self.body = nn.Conv3d(16, 8, 3, padding=1)\n"
                                     "        self.head = nn.Linear(8, 4)\n\n"
                                     "    def forward(self, x):\n"
                                     "        p = self.pool(torch.relu(self.stem(x)))\n"
                                     "        y = torch.cat([torch.relu(self.left(p)), torch.relu(self.right(self.branch_pool(p)))], 1)\n"
                                     "        y = self.body(self.out_pool(y))\n"
                                     "        return self.head(torch.relu(y).mean([2, 3, 4]))\n";
  const std::string out = dir + "/q.pt";
  auto q = mlopt::test::run_mlopt({"quantize", dir + "/clip.py", "--class", "Clip", "--mode", "static", "--engine",
                                   "onednn", "--input", "x:batch=2x3x4x16x16", "-o", out, "--no-latency", "--min-top1", "0", "--json"});
  INFO(q.err);
  // LibTorch 1.13 has no int8 max_pool3d: the model failed at its first run.
  REQUIRE(q.exit_code == 0);
  auto j = nlohmann::json::parse(q.out);
  CHECK(j["output_sqnr_db"].get<double>() > 25);
  auto graph = mlopt::load_torchscript(out).get_method("forward").graph()->toString();
  CHECK_THAT(graph, Catch::Contains("quantized::conv3d") && Catch::Contains("aten::max_pool3d") &&
                        Catch::Contains("aten::q_scale"));
  // And it runs at another batch size.
  auto v = mlopt::test::run_mlopt({"profile", out, "--input", "x:batch=3x3x4x16x16", "--iters", "2", "--warmup", "1",
                                   "--processes", "1", "--no-tuned-figure"});
  INFO(v.err);
  CHECK(v.exit_code == 0);
}
