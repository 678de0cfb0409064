// The meta kernels mlopt adds for the export's shape probe (lib/mlopt/onnx/
// meta_kernels.cpp) give the sizes and dtype that LibTorch's CPU kernels give.
#include <catch2/catch.hpp>
#include <torch/script.h>

namespace {

at::Tensor on_meta(const at::Tensor& t) { return at::empty_strided(t.sizes(), t.strides(), t.options().device(at::kMeta)); }

struct ConvCase {
  std::vector<int64_t> input, weight, stride, padding, dilation, output_padding;
  bool transposed;
  int64_t groups;
};

at::Tensor conv(const at::Tensor& x, const at::Tensor& w, const ConvCase& c) {
  return at::convolution(x, w, c10::nullopt, c.stride, c.padding, c.dilation, c.transposed, c.output_padding, c.groups);
}

}  // namespace

TEST_CASE("meta kernels: convolution sizes match the CPU kernel", "[onnx]") {
  const std::vector<ConvCase> cases = {
      {{2, 3, 17, 19}, {8, 3, 3, 3}, {1}, {1}, {1}, {0}, false, 1},                  // same padding
      {{1, 4, 16, 15}, {6, 2, 5, 3}, {2, 3}, {2, 0}, {1, 2}, {0}, false, 2},         // per-dim args, groups
      {{1, 8, 9, 9}, {8, 1, 3, 3}, {2}, {1}, {1}, {0}, false, 8},                    // depthwise, stride 2
      {{3, 5, 30}, {7, 5, 4}, {3}, {2}, {2}, {0}, false, 1},                         // conv1d
      {{1, 2, 6, 7, 8}, {4, 2, 3, 3, 3}, {1, 2, 1}, {0, 1, 1}, {1}, {0}, false, 1},  // conv3d
      {{2, 6, 5, 7}, {6, 3, 3, 3}, {2}, {1}, {1}, {1}, true, 1},                     // transposed, output_padding
      {{1, 4, 4, 4}, {4, 2, 4, 4}, {2}, {1}, {1}, {0}, true, 2},                     // transposed, groups
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    const auto& c = cases[i];
    auto x = torch::randn(c.input);
    auto w = torch::randn(c.weight);
    auto real = conv(x, w, c);
    auto meta = conv(on_meta(x), on_meta(w), c);
    CHECK(meta.is_meta());
    CHECK(meta.sizes() == real.sizes());
    CHECK(meta.scalar_type() == real.scalar_type());
  }
}

TEST_CASE("meta kernels: a convolution the CPU kernel refuses is refused on meta tensors", "[onnx]") {
  ConvCase too_small{{1, 3, 2, 2}, {4, 3, 5, 5}, {1}, {0}, {1}, {0}, false, 1};
  ConvCase wrong_channels{{1, 4, 8, 8}, {4, 3, 3, 3}, {1}, {0}, {1}, {0}, false, 1};
  // One short of the kernel with stride 2: (2 - 3) / 2 + 1 would round to a size of 1.
  ConvCase one_short{{1, 3, 2, 2}, {4, 3, 3, 3}, {2}, {0}, {1}, {0}, false, 1};
  for (const auto& c : {too_small, wrong_channels, one_short}) {
    auto x = torch::randn(c.input);
    auto w = torch::randn(c.weight);
    CHECK_THROWS(conv(x, w, c));
    CHECK_THROWS(conv(on_meta(x), on_meta(w), c));
  }
}

TEST_CASE("meta kernels: batch_norm and the activations keep sizes and dtype", "[onnx]") {
  auto x = torch::randn({2, 3, 5, 4});
  auto stats = torch::rand({3});
  auto bn = [&](const at::Tensor& t, const at::Tensor& s) { return at::batch_norm(t, s, s, s, s, false, 0.1, 1e-5, false); };
  auto meta_bn = bn(on_meta(x), on_meta(stats));
  CHECK(meta_bn.is_meta());
  CHECK(meta_bn.sizes() == bn(x, stats).sizes());

  auto xm = on_meta(x);
  const std::vector<std::pair<const char*, std::function<at::Tensor(const at::Tensor&)>>> activations = {
      {"relu", [](const at::Tensor& t) { return at::relu(t); }},
      {"hardswish", [](const at::Tensor& t) { return at::hardswish(t); }},
      {"hardtanh", [](const at::Tensor& t) { return at::hardtanh(t, 0, 6); }},
      {"hardsigmoid", [](const at::Tensor& t) { return at::hardsigmoid(t); }},
      {"gelu", [](const at::Tensor& t) { return at::gelu(t); }},
      {"silu", [](const at::Tensor& t) { return at::silu(t); }},
      {"sigmoid", [](const at::Tensor& t) { return at::sigmoid(t); }},
      {"tanh", [](const at::Tensor& t) { return at::tanh(t); }},
  };
  for (auto& [name, f] : activations) {
    INFO(name);
    auto out = f(xm);
    CHECK(out.is_meta());
    CHECK(out.sizes() == x.sizes());
    CHECK(out.scalar_type() == at::kFloat);
    CHECK(f(xm.to(at::kDouble)).scalar_type() == at::kDouble);
  }
}

TEST_CASE("meta kernels: index_select (embedding lookups) sizes match the CPU kernel", "[onnx]") {
  auto table = torch::randn({50, 8});
  auto ids = torch::randint(0, 50, {2, 6}, at::kLong);
  auto real = at::embedding(table, ids);
  auto meta = at::embedding(on_meta(table), on_meta(ids));
  CHECK(meta.is_meta());
  CHECK(meta.sizes() == real.sizes());
  CHECK_THROWS(at::index_select(on_meta(torch::tensor(3.0)), 0, on_meta(torch::tensor({0}, at::kLong))));
  auto x = torch::randn({4, 5, 6});
  auto idx = torch::tensor({0, 2, 2}, at::kLong);
  CHECK(at::index_select(on_meta(x), -2, on_meta(idx)).sizes() == at::index_select(x, -2, idx).sizes());
}
