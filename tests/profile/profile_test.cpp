#include <catch2/catch.hpp>
#include <torch/script.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/model_io.h"
#include "mlopt/profile/flops.h"
#include "mlopt/profile/op_recorder.h"
#include "mlopt/profile/profile.h"
#include "support/test_support.h"

using namespace mlopt;

TEST_CASE("flops: hand-computed counts for conv, linear and matmul", "[profile]") {
  std::string cat;
  // conv 3->8, 3x3, output 1x8x16x16: 2 * 2048 * 3 * 9
  CHECK(op_flops("aten::conv2d", {{1, 3, 16, 16}, {8, 3, 3, 3}}, {1, 8, 16, 16}, false, &cat) == 2 * 2048 * 27);
  CHECK(cat == "conv");
  // grouped: weight [8, 1, 3, 3] (groups 3->... depthwise-like): Cin/g = 1
  CHECK(op_flops("aten::conv2d", {{1, 8, 4, 4}, {8, 1, 3, 3}}, {1, 8, 4, 4}, false, &cat) == 2 * 128 * 9);
  CHECK(op_flops("aten::linear", {{4, 16}, {32, 16}}, {4, 32}, false, &cat) == 2 * 4 * 32 * 16);
  CHECK(cat == "linear");
  CHECK(op_flops("aten::matmul", {{2, 5, 8}, {2, 8, 5}}, {2, 5, 5}, false, &cat) == 2 * 50 * 8);
  CHECK(op_flops("aten::relu", {{4}}, {4}, false, &cat) == 0);
}

TEST_CASE("flops: a scripted model's count matches the formula and nested ops are not counted twice", "[profile]") {
  torch::jit::Module m("m");
  m.register_parameter("w", torch::randn({32, 16}), false);
  m.register_parameter("k", torch::randn({8, 3, 3, 3}), false);
  m.define(R"(
def forward(self, x, img):
    a = torch.linear(x, self.w, None)
    b = torch.conv2d(img, self.k, None, [1, 1], [1, 1])
    return a.sum() + b.sum()
)");
  torch::NoGradGuard g;
  auto x = torch::randn({4, 16}), img = torch::randn({1, 3, 16, 16});
  auto count = count_flops([&] { m.forward({x, img}); });
  CHECK(count.linear == 2 * 4 * 32 * 16);
  CHECK(count.conv == 2 * 2048 * 27);
  CHECK(count.total == count.linear + count.conv);
}

// Expected FLOPs of tests/data/prune/convnext_traced.pt at x:1x3x32x32 (make_prune_fixtures.py):
// stem conv 16x3x4x4 on 8x8 outputs; per block a depthwise 7x7 on 16x8x8 and two 16<->64 linears on 64
// positions; the 16->10 head.
constexpr int64_t kConvNeXtFlops = 2 * (16 * 64 * 48) + 2 * (2 * 1024 * 49 + 2 * 2 * 64 * 16 * 64) + 2 * 10 * 16;

TEST_CASE("flops: a traced ConvNeXt-style model counts the same after LibTorch has optimized its graph",
          "[profile]") {
  // The profiling executor's optimized graph (from a method's second run) hands the op callbacks
  // shifted inputs and outputs; count_module_flops counts on a fresh copy.
  auto m = load_torchscript(test::test_data("prune/convnext_traced.pt"));
  std::vector<at::Tensor> x{torch::rand({1, 3, 32, 32})};
  CHECK(count_module_flops(m, x).total == kConvNeXtFlops);
  for (int i = 0; i < 3; ++i) run_module(m, x);
  CHECK(count_module_flops(m, x).total == kConvNeXtFlops);
  CHECK(count_module_flops(m, {torch::rand({2, 3, 32, 32})}).total == 2 * kConvNeXtFlops);
}

TEST_CASE("profile: FLOPs at a second batch size are that batch's", "[profile][cli]") {
  auto r = test::run_mlopt({"profile", test::test_data("prune/convnext_traced.pt"), "--input", "x:batch=1x3x32x32",
                            "--batch", "1,2", "--iters", "2", "--warmup", "1", "--no-tuned-figure", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  const auto& runs = j["runs"];
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["flops"].get<int64_t>() == kConvNeXtFlops);
  CHECK(runs[1]["flops"].get<int64_t>() == 2 * kConvNeXtFlops);
}

TEST_CASE("op recorder: self times add up and the trace is valid JSON", "[profile]") {
  torch::jit::Module m("m");
  m.define("def forward(self, x):\n  return torch.relu(x.matmul(x)).sum()\n");
  auto x = torch::randn({64, 64});
  auto rec = record_ops([&] { m.forward({x}); }, 3);
  CHECK(rec.runs == 3);
  auto stats = op_breakdown(rec, 0);
  REQUIRE_FALSE(stats.empty());
  double share = 0;
  bool saw_matmul = false;
  for (const auto& s : stats) {
    share += s.share;
    saw_matmul = saw_matmul || s.name == "aten::matmul" || s.name == "aten::mm";
    CHECK(s.self_ms_per_run <= s.total_ms_per_run + 1e-9);
  }
  CHECK(share == Approx(1.0));
  CHECK(saw_matmul);
  std::string dir = test::temp_dir("trace");
  write_chrome_trace(rec, dir + "/t.json");
  auto j = nlohmann::json::parse(read_file(dir + "/t.json"));
  CHECK(j["traceEvents"].size() == rec.events.size());
}

TEST_CASE("profile: .pt, .ptl and .onnx with batches, threads, FLOPs and stable JSON keys", "[profile]") {
  ProfileOptions o;
  o.model = test::test_data("verify/mlp.pt");
  o.batch = {1, 8};
  o.threads = {1, 2};
  o.warmup = 2;
  o.iters = 5;
  o.ops = true;
  o.compare = test::test_data("verify/mlp.onnx");
  auto r = profile(o, GlobalOptions{});
  REQUIRE(r.a.runs.size() == 4);
  CHECK(r.a.runs[2].batch == 8);
  CHECK(r.a.runs[1].threads == 2);
  CHECK(r.a.runs[0].latency.iterations == 5);
  // 16*32 + 32*4 MACs per sample.
  CHECK(r.a.flops.total == 2 * (16 * 32 + 32 * 4));
  CHECK(r.a.runs[2].flops == 8 * 2 * (16 * 32 + 32 * 4));
  REQUIRE(r.b);
  CHECK(r.b->reference_path);
  CHECK(r.b->flops.total == r.a.flops.total);  // the evaluator runs the same ATen products
  CHECK(r.a.parameter_count == 676);
  CHECK(r.a.peak_rss_bytes > 0);
  CHECK_FALSE(r.a.ops.empty());
  auto j = r.to_json();
  for (const char* key : {"mean", "stddev", "min", "p50", "p90", "p99", "max"}) CHECK(j["latency_ms"].contains(key));
  CHECK(j.contains("throughput"));
  CHECK(j["compare"]["ratios"]["latency_p50"].get<double>() > 0);
  CHECK(j["environment"].contains("cpu_model"));
  CHECK_THAT(r.to_text(), Catch::Contains("B/A"));
}

TEST_CASE("mlopt profile: CLI lists, --json keys, --trace file, errors", "[profile]") {
  std::string dir = test::temp_dir("profile-cli");
  auto r = test::run_mlopt({"profile", test::test_data("verify/mlp.ptl"), "--batch", "1,4", "--threads", "1",
                            "--warmup", "1", "--iters", "3", "--trace", dir + "/trace.json", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["engine"] == "torchscript-lite");
  CHECK(j["runs"].size() == 2);
  CHECK(j["latency_ms"]["p50"].get<double>() > 0);
  CHECK(file_exists(dir + "/trace.json"));
  auto text = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--iters", "3", "--warmup", "1"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("p50"));
  CHECK_THAT(text.out, Catch::Contains("CPU:"));
  auto bad = test::run_mlopt({"profile", test::test_data("verify/mlp.pt"), "--batch", "0"});
  CHECK(bad.exit_code == 2);
  auto none = test::run_mlopt({"profile", test::test_data("verify/nope.onnx")});
  CHECK(none.exit_code == 1);
}

// A fire block (two branches joined by cat) as the lite interpreter runs it: the
// first branch's output waits on the interpreter's stack while the second runs,
// and a boxed call records the whole stack as its inputs.
TEST_CASE("mlopt profile: an int8 .ptl runs on the engine it was made for, with its packed weights and FLOPs counted",
          "[profile]") {
  std::string dir = test::temp_dir("profile-int8-ptl");
  std::ofstream(dir + "/fire.py") << "import torch\nimport torch.nn as nn\n\nclass Fire(nn.Module):\n"
                                     "    def __init__(self):\n        super().__init__()\n"
                                     "        self.squeeze = nn.Conv2d(3, 4, 1)\n"
                                     "        self.left = nn.Conv2d(4, 8, 1)\n"
                                     "        self.right = nn.Conv2d(4, 8, 3, padding=1)\n\n"
                                     "    def forward(self, x):\n        s = torch.relu(self.squeeze(x))\n"
                                     "        return torch.cat([torch.relu(self.left(s)), torch.relu(self.right(s))], 1)\n";
  // 2 x MACs per output element: squeeze 3, left 4, right 4*9, on 8x8 outputs.
  const int64_t expected_flops = 2 * 64 * (4 * 3 + 8 * 4 + 8 * 4 * 9);
  const int64_t expected_parameters = (4 * 3 + 4) + (8 * 4 + 8) + (8 * 4 * 9 + 8);
  for (const char* ext : {".ptl", ".pt"}) {
    INFO(ext);
    std::string out = dir + "/q" + ext;
    auto q = test::run_mlopt({"quantize", dir + "/fire.py", "--class", "Fire", "--mode", "static", "--engine", "qnnpack",
                              "--input", "x:1x3x8x8", "-o", out, "--no-latency", "--min-sqnr", "0", "--min-top1", "0"});
    INFO(q.err);
    REQUIRE(q.exit_code == 0);
    auto p = test::run_mlopt({"profile", out, "--threads", "1", "--warmup", "1", "--iters", "3", "--json"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    auto j = nlohmann::json::parse(p.out);
    CHECK(j["precision"] == "int8");
    CHECK(j["quantized_engine"] == "qnnpack");
    CHECK(j["flops"]["total"].get<int64_t>() == expected_flops);
    CHECK(j["parameter_count"].get<int64_t>() == expected_parameters);
    // On one thread the tuned figure is the allocator's alone ...
    CHECK_THAT(j["tuned_settings"].get<std::string>(),
               Catch::Contains("MALLOC_TRIM_THRESHOLD_=") && !Catch::Contains("OMP_WAIT_POLICY"));
    // ... on two, QNNPACK's pool and OpenMP's spinning workers share the cores: the tuned process has passive ones.
    auto text = test::run_mlopt({"profile", out, "--threads", "2", "--warmup", "1", "--iters", "3"});
    CHECK_THAT(text.out, Catch::Contains("int8 on qnnpack") &&
                             Catch::Contains("and passive OpenMP workers (recommended for a long-lived serving "
                                             "process: MALLOC_TRIM_THRESHOLD_=") &&
                             Catch::Contains(" OMP_WAIT_POLICY=PASSIVE):"));
  }
}

TEST_CASE("profile: fresh default processes that disagree on p50 are named in a warning", "[profile]") {
  ProfileRun run;
  run.shapes = "x:1x3x64x64";
  run.threads = 1;
  run.process_p50_ms = {19.504, 15.547, 15.050};
  auto w = process_spread_warning(run, "cnn.pt");
  CHECK_THAT(w, Catch::Contains("cnn.pt at x:1x3x64x64 with 1 thread(s)") &&
                    Catch::Contains("p50 15.050 to 19.504 ms, 30% apart") && Catch::Contains("allocator settings"));
  run.process_p50_ms = {15.2, 15.9, 16.1};  // 6% apart: one figure
  CHECK(process_spread_warning(run, "cnn.pt").empty());
  run.process_p50_ms = {15.2};  // timed in one process: nothing to compare
  CHECK(process_spread_warning(run, "cnn.pt").empty());
}
