// quantize to .ptl runs on QNNPACK, the mobile engine, which packs no 3-D
// convolution: those layers stay float, with the reason, and the rest is int8.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "support/test_support.h"

namespace {

// conv3d (a TorchScript submodule) -> mean over space -> linear.
std::string video_model(const std::string& dir) {
  torch::jit::Module conv("Conv3dLayer");
  conv.register_parameter("weight", torch::randn({8, 3, 3, 3, 3}) * 0.2, false);
  conv.register_parameter("bias", torch::randn({8}) * 0.1, false);
  conv.define("def forward(self, x):\n  return torch.conv3d(x, self.weight, self.bias)\n");
  torch::jit::Module fc("LinearLayer");
  fc.register_parameter("weight", torch::randn({5, 8}) * 0.3, false);
  fc.register_parameter("bias", torch::randn({5}) * 0.1, false);
  fc.define("def forward(self, x):\n  return torch.linear(x, self.weight, self.bias)\n");
  torch::jit::Module m("Video");
  m.register_module("conv", conv);
  m.register_module("fc", fc);
  m.define("def forward(self, x):\n  return self.fc.forward(torch.relu(self.conv.forward(x)).mean([2, 3, 4]))\n");
  m.eval();
  auto path = dir + "/video.pt";
  m.save(path);
  return path;
}

}  // namespace

TEST_CASE("quantize: static int8 .ptl keeps 3-D convolutions float (QNNPACK has none), the rest int8",
          "[quantize]") {
  auto dir = mlopt::test::temp_dir("quantize_mobile");
  auto out = dir + "/video.ptl";
  auto r = mlopt::test::run_mlopt({"quantize", video_model(dir), "--mode", "static", "--input",
                                   "x:batch=4x3x4x8x8", "--no-latency", "--min-top1", "0", "--json", "-o", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["engine"] == "qnnpack");
  bool conv_float = false, linear_int8 = false;
  for (const auto& l : j["layers"]) {
    if (l["kind"] == "conv3d")
      conv_float = !l["quantized"].get<bool>() &&
                   l["float_reason"].get<std::string>().find("QNNPACK") != std::string::npos;
    if (l["kind"] == "linear") linear_int8 = l["quantized"].get<bool>();
  }
  CHECK(conv_float);
  CHECK(linear_int8);
  CHECK(std::filesystem::exists(out));
}
