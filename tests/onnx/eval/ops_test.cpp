// Per-op checks of the evaluator against hand-computed values (or ATen where
// the op is a direct mapping and the ONNX attribute handling is under test).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/onnx/eval/op_registry.h"
#include "onnx/eval/graph_builder.h"

using namespace mlopt;
using test::attr;
using test::run_op;

namespace {
at::Tensor t(std::vector<float> v, std::vector<int64_t> shape) { return torch::tensor(v).reshape(shape); }
at::Tensor l(std::vector<int64_t> v) { return torch::tensor(v, at::kLong); }
}  // namespace

TEST_CASE("onnx eval ops: every op the exporter emits is registered", "[onnx-eval]") {
  for (const char* op : {"Conv", "Gemm", "MatMul", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Mul", "Add",
                         "Sub", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum",
                         "ReduceMax", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat", "Reshape", "Flatten",
                         "Transpose", "Gather", "Slice", "Squeeze", "Unsqueeze", "Shape", "Expand", "Cast", "Constant",
                         "ConstantOfShape", "Identity", "LayerNormalization", "LSTM", "GRU", "Where", "Equal", "Less",
                         "Greater", "Not", "If", "Loop", "Split", "Range", "Pad", "Resize", "BatchNormalization",
                         "Dropout", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger",
                         "ConvInteger", "QLinearConv", "QLinearMatMul", "ScatterElements", "ScatterND", "NonZero",
                         "GridSample", "ReduceL1", "ReduceL2", "SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss",
                         "Abs", "Exp", "Log", "NonMaxSuppression", "RoiAlign"}) {
    INFO(op);
    CHECK(onnx_eval::find_op(op) != nullptr);
  }
}

TEST_CASE("onnx eval ops: Gemm with transB, alpha, beta and a broadcast C", "[onnx-eval]") {
  auto a = t({1, 2, 3, 4}, {2, 2}), b = t({1, 0, 0, 1, 1, 1}, {3, 2}), c = t({10, 20, 30}, {3});
  auto y = run_op("Gemm", {{"a", a}, {"b", b}, {"c", c}}, 1, [](auto& n) {
    attr(n, "transB", int64_t{1});
    attr(n, "alpha", 2.0);
    attr(n, "beta", 0.5);
  })[0];
  // A B^T = [[1,2,3],[3,4,7]]; *2 + 0.5*C
  CHECK(torch::allclose(y, t({7, 14, 21, 11, 18, 29}, {2, 3})));
}

TEST_CASE("onnx eval ops: Slice with negative steps and clamped ends, Reshape with 0 and -1", "[onnx-eval]") {
  auto x = torch::arange(10, at::kFloat);
  auto y = run_op("Slice", {{"x", x}, {"s", l({-1})}, {"e", l({-100})}, {"a", l({0})}, {"st", l({-3})}}, 1)[0];
  CHECK(torch::equal(y, t({9, 6, 3, 0}, {4})));
  auto z = run_op("Slice", {{"x", x}, {"s", l({2})}, {"e", l({1000})}}, 1)[0];
  CHECK(z.size(0) == 8);
  auto r = run_op("Reshape", {{"x", torch::zeros({2, 3, 4})}, {"s", l({0, -1})}}, 1)[0];
  CHECK(r.sizes() == at::IntArrayRef({2, 12}));
}

TEST_CASE("onnx eval ops: Gather with negative indices, Split by sizes, Squeeze/Unsqueeze axes inputs", "[onnx-eval]") {
  auto x = t({1, 2, 3, 4, 5, 6}, {3, 2});
  auto g = run_op("Gather", {{"x", x}, {"i", l({-1, 0})}}, 1)[0];
  CHECK(torch::equal(g, t({5, 6, 1, 2}, {2, 2})));
  auto parts = run_op("Split", {{"x", torch::arange(5, at::kFloat)}, {"s", l({2, 3})}}, 2);
  CHECK(parts[1].size(0) == 3);
  auto u = run_op("Unsqueeze", {{"x", x}, {"a", l({0, -1})}}, 1)[0];
  CHECK(u.sizes() == at::IntArrayRef({1, 3, 2, 1}));
  auto s = run_op("Squeeze", {{"x", u}, {"a", l({-1})}}, 1)[0];
  CHECK(s.sizes() == at::IntArrayRef({1, 3, 2}));
}

TEST_CASE("onnx eval ops: Range, ConstantOfShape, Expand, Where, Cast, CumSum, TopK", "[onnx-eval]") {
  auto r = run_op("Range", {{"s", torch::scalar_tensor(1, at::kLong)}, {"l", torch::scalar_tensor(8, at::kLong)},
                            {"d", torch::scalar_tensor(3, at::kLong)}}, 1)[0];
  CHECK(torch::equal(r, l({1, 4, 7})));
  auto c = run_op("ConstantOfShape", {{"s", l({2, 2})}}, 1, [](auto& n) { attr(n, "value", torch::full({1}, 7, at::kLong)); })[0];
  CHECK(torch::equal(c, torch::full({2, 2}, 7, at::kLong)));
  auto e = run_op("Expand", {{"x", t({1, 2}, {2, 1})}, {"s", l({1, 3})}}, 1)[0];
  CHECK(e.sizes() == at::IntArrayRef({2, 3}));
  auto w = run_op("Where", {{"c", torch::tensor({true, false})}, {"a", t({1, 2}, {2})}, {"b", t({9, 9}, {2})}}, 1)[0];
  CHECK(torch::equal(w, t({1, 9}, {2})));
  auto k = run_op("Cast", {{"x", t({1.7f, -1.7f}, {2})}}, 1, [](auto& n) { attr(n, "to", int64_t{7}); })[0];
  CHECK(torch::equal(k, l({1, -1})));
  auto cs = run_op("CumSum", {{"x", t({1, 2, 3}, {3})}, {"a", torch::scalar_tensor(0, at::kLong)}}, 1,
                   [](auto& n) { attr(n, "exclusive", int64_t{1}); attr(n, "reverse", int64_t{1}); })[0];
  CHECK(torch::equal(cs, t({5, 3, 0}, {3})));
  auto tk = run_op("TopK", {{"x", t({3, 1, 4, 1, 5}, {5})}, {"k", l({2})}}, 2);
  CHECK(torch::equal(tk[0], t({5, 4}, {2})));
  CHECK(torch::equal(tk[1], l({4, 2})));
}

TEST_CASE("onnx eval ops: Pad constant/reflect/edge and MaxPool/AveragePool with asymmetric pads", "[onnx-eval]") {
  auto x = t({1, 2, 3}, {1, 1, 3});
  auto c = run_op("Pad", {{"x", x}, {"p", l({0, 0, 1, 0, 0, 2})}, {"v", torch::scalar_tensor(9.f)}}, 1)[0];
  CHECK(torch::equal(c, t({9, 1, 2, 3, 9, 9}, {1, 1, 6})));
  auto r = run_op("Pad", {{"x", x}, {"p", l({0, 0, 2, 0, 0, 1})}}, 1, [](auto& n) { attr(n, "mode", std::string("reflect")); })[0];
  CHECK(torch::equal(r, t({3, 2, 1, 2, 3, 2}, {1, 1, 6})));
  auto e = run_op("Pad", {{"x", x}, {"p", l({0, 0, 1, 0, 0, 1})}}, 1, [](auto& n) { attr(n, "mode", std::string("edge")); })[0];
  CHECK(torch::equal(e, t({1, 1, 2, 3, 3}, {1, 1, 5})));

  auto img = t({1, 2, 3, 4}, {1, 1, 2, 2});
  auto mp = run_op("MaxPool", {{"x", img}}, 1, [](auto& n) {
    attr(n, "kernel_shape", std::vector<int64_t>{2, 2});
    attr(n, "pads", std::vector<int64_t>{0, 0, 1, 1});
  })[0];
  CHECK(torch::equal(mp, t({4, 4, 4, 4}, {1, 1, 2, 2})));
  auto ap = run_op("AveragePool", {{"x", img}}, 1, [](auto& n) {
    attr(n, "kernel_shape", std::vector<int64_t>{2, 2});
    attr(n, "pads", std::vector<int64_t>{0, 0, 1, 1});
  })[0];
  // Windows clipped by padding average the real elements only.
  CHECK(torch::allclose(ap, t({2.5, 3, 3.5, 4}, {1, 1, 2, 2})));
}

TEST_CASE("onnx eval ops: ReduceSum axes input and keepdims, ReduceMean attribute, ArgMax", "[onnx-eval]") {
  auto x = t({1, 2, 3, 4, 5, 6}, {2, 3});
  auto s = run_op("ReduceSum", {{"x", x}, {"a", l({1})}}, 1, [](auto& n) { attr(n, "keepdims", int64_t{0}); })[0];
  CHECK(torch::equal(s, t({6, 15}, {2})));
  auto m = run_op("ReduceMean", {{"x", x}}, 1, [](auto& n) { attr(n, "axes", std::vector<int64_t>{0}); })[0];
  CHECK(torch::equal(m, t({2.5, 3.5, 4.5}, {1, 3})));
  auto am = run_op("ArgMax", {{"x", x}}, 1, [](auto& n) { attr(n, "axis", int64_t{1}); })[0];
  CHECK(torch::equal(am, l({2, 2}).reshape({2, 1})));
}

TEST_CASE("onnx eval ops: QuantizeLinear/DequantizeLinear round half to even and saturate", "[onnx-eval]") {
  auto x = t({-300, -1, 0.5, 1.5, 2.5, 1000}, {6});
  auto q = run_op("QuantizeLinear", {{"x", x}, {"s", torch::scalar_tensor(1.0f)}, {"z", torch::scalar_tensor(128, at::kByte)}}, 1)[0];
  CHECK(q.scalar_type() == at::kByte);
  CHECK(torch::equal(q, torch::tensor({0, 127, 128, 130, 130, 255}, at::kByte)));
  auto qi = run_op("QuantizeLinear", {{"x", x}, {"s", torch::scalar_tensor(2.0f)}, {"z", torch::scalar_tensor(0, at::kChar)}}, 1)[0];
  CHECK(torch::equal(qi, torch::tensor({-128, 0, 0, 1, 1, 127}, at::kChar)));
  auto d = run_op("DequantizeLinear", {{"x", torch::tensor({0, 128, 255}, at::kByte)}, {"s", torch::scalar_tensor(0.5f)},
                                       {"z", torch::scalar_tensor(128, at::kByte)}}, 1)[0];
  CHECK(torch::equal(d, t({-64, 0, 63.5}, {3})));
  // Per-axis: one scale per channel of axis 1.
  auto pa = run_op("DequantizeLinear", {{"x", torch::ones({1, 2}, at::kChar)}, {"s", t({2, 3}, {2})}, {"z", torch::zeros({2}, at::kChar)}}, 1)[0];
  CHECK(torch::equal(pa, t({2, 3}, {1, 2})));
}

TEST_CASE("onnx eval ops: DynamicQuantizeLinear follows the ONNX reference formula", "[onnx-eval]") {
  auto x = t({0, 2, -3, -2.5, 1.34, 0.5}, {6});
  auto out = run_op("DynamicQuantizeLinear", {{"x", x}}, 3);
  float scale = 5.0f / 255.0f;  // (max(0, 2) - min(0, -3)) / 255
  CHECK(out[1].item<float>() == Approx(scale));
  CHECK(out[2].item<int64_t>() == 153);  // round(3 / scale) = 153
  // round(x / scale) + 153, saturated: the ONNX backend test's expected output.
  CHECK(torch::equal(out[0], torch::tensor({153, 255, 0, 26, 221, 179}, at::kByte)));
}

TEST_CASE("onnx eval ops: MatMulInteger, QLinearMatMul, ConvInteger and QLinearConv", "[onnx-eval]") {
  auto a = torch::tensor({11, 7, 3, 10, 6, 1}, at::kByte).reshape({2, 3});
  auto b = torch::tensor({1, 4, 2, 5, 3, 6}, at::kByte).reshape({3, 2});
  auto mi = run_op("MatMulInteger", {{"a", a}, {"b", b}, {"az", torch::scalar_tensor(1, at::kByte)}}, 1)[0];
  // (A - 1) B
  CHECK(mi.scalar_type() == at::kInt);
  CHECK(torch::equal(mi, (a.to(at::kInt) - 1).matmul(b.to(at::kInt))));
  auto ql = run_op("QLinearMatMul", {{"a", a}, {"as", torch::scalar_tensor(0.5f)}, {"az", torch::scalar_tensor(1, at::kByte)},
                                     {"b", b}, {"bs", torch::scalar_tensor(0.25f)}, {"bz", torch::scalar_tensor(0, at::kByte)},
                                     {"ys", torch::scalar_tensor(1.0f)}, {"yz", torch::scalar_tensor(10, at::kByte)}}, 1)[0];
  auto real = (a.to(at::kFloat) - 1).matmul(b.to(at::kFloat)) * 0.125f;
  CHECK(torch::equal(ql, (real.round() + 10).clamp(0, 255).to(at::kByte)));

  auto x = torch::randint(0, 255, {1, 2, 5, 5}, at::kLong).to(at::kByte);
  auto w = torch::randint(-20, 20, {3, 2, 3, 3}, at::kLong).to(at::kChar);
  auto ci = run_op("ConvInteger", {{"x", x}, {"w", w}, {"xz", torch::scalar_tensor(100, at::kByte)}}, 1,
                   [](auto& n) { attr(n, "pads", std::vector<int64_t>{1, 1, 1, 1}); })[0];
  auto ref = at::conv2d(x.to(at::kDouble) - 100, w.to(at::kDouble), {}, 1, 1).to(at::kInt);
  CHECK(torch::equal(ci, ref));
  auto bias = torch::tensor({100, -50, 0}, at::kInt);
  auto wscale = t({0.01f, 0.02f, 0.03f}, {3});
  auto qc = run_op("QLinearConv", {{"x", x}, {"xs", torch::scalar_tensor(0.1f)}, {"xz", torch::scalar_tensor(100, at::kByte)},
                                   {"w", w}, {"ws", wscale}, {"wz", torch::zeros({3}, at::kChar)},
                                   {"ys", torch::scalar_tensor(0.5f)}, {"yz", torch::scalar_tensor(5, at::kChar)}, {"b", bias}}, 1,
                   [](auto& n) { attr(n, "pads", std::vector<int64_t>{1, 1, 1, 1}); })[0];
  CHECK(qc.scalar_type() == at::kChar);
  auto acc = ref.to(at::kFloat) + bias.to(at::kFloat).reshape({1, 3, 1, 1});
  auto expect = (acc * (0.1f * wscale.reshape({1, 3, 1, 1})) / 0.5f).round() + 5;
  CHECK((qc.to(at::kFloat) - expect.clamp(-128, 127)).abs().max().item<float>() <= 1.0f);
}

TEST_CASE("onnx eval ops: If picks a branch that reads the outer scope", "[onnx-eval]") {
  test::GraphBuilder b;
  b.input("c", torch::tensor(true)).input("x", torch::ones({2}));
  onnx::GraphProto then_g, else_g;
  then_g.set_name("then");
  test::GraphBuilder::add_node(&then_g, "Add", {"x", "x"}, {"t"});
  then_g.add_output()->set_name("t");
  else_g.set_name("else");
  test::GraphBuilder::add_node(&else_g, "Neg", {"x"}, {"e"});
  else_g.add_output()->set_name("e");
  auto& n = b.node("If", {"c"}, {"y"});
  attr(n, "then_branch", then_g);
  attr(n, "else_branch", else_g);
  b.output("y");
  auto ev = b.build();
  CHECK(torch::equal(ev.run({torch::tensor(true), torch::ones({2})})[0], torch::full({2}, 2.f)));
  CHECK(torch::equal(ev.run({torch::tensor(false), torch::ones({2})})[0], torch::full({2}, -1.f)));
}

TEST_CASE("onnx eval ops: Loop carries state, stops on its condition and stacks scan outputs", "[onnx-eval]") {
  // for i < M while acc < 20: acc = acc * 2 + i; scan out acc
  test::GraphBuilder b;
  b.input("m", torch::scalar_tensor(10, at::kLong)).input("acc0", torch::ones({1}));
  b.init("twenty", torch::full({1}, 20.f));
  onnx::GraphProto body;
  body.set_name("body");
  for (auto [name, ex] : {std::pair<const char*, at::Tensor>{"i", torch::scalar_tensor(0, at::kLong)},
                          {"cond_in", torch::tensor(true)}, {"acc", torch::ones({1})}})
    test::GraphBuilder::add_value_info(body.add_input(), name, ex);
  test::GraphBuilder::add_node(&body, "Cast", {"i"}, {"fi"});
  attr(*body.mutable_node(0), "to", int64_t{1});
  test::GraphBuilder::add_node(&body, "Add", {"acc", "acc"}, {"dbl"});
  test::GraphBuilder::add_node(&body, "Add", {"dbl", "fi"}, {"next"});
  test::GraphBuilder::add_node(&body, "Less", {"next", "twenty"}, {"lt"});
  test::GraphBuilder::add_node(&body, "Squeeze", {"lt"}, {"cond_out"});
  test::GraphBuilder::add_node(&body, "Identity", {"next"}, {"scan"});
  for (const char* o : {"cond_out", "next", "scan"}) body.add_output()->set_name(o);
  auto& n = b.node("Loop", {"m", "", "acc0"}, {"final", "all"});
  attr(n, "body", body);
  b.output("final").output("all");
  auto out = b.build().run({torch::scalar_tensor(10, at::kLong), torch::ones({1})});
  // 1 -> 2 -> 5 -> 12 -> 27 (stops: 27 >= 20)
  CHECK(out[0].item<float>() == 27);
  CHECK(torch::equal(out[1].reshape({-1}), t({2, 5, 12, 27}, {4})));
}

TEST_CASE("onnx eval ops: nodes out of order run in dependency order", "[onnx-eval]") {
  test::GraphBuilder b;
  b.input("x", torch::ones({2}));
  b.node("Mul", {"a", "a"}, {"y"});
  b.node("Add", {"x", "x"}, {"a"});
  b.output("y");
  CHECK(torch::equal(b.build().run({torch::ones({2})})[0], torch::full({2}, 4.f)));
}

TEST_CASE("onnx eval ops: Softmax before opset 13 coerces to 2-D", "[onnx-eval]") {
  auto x = torch::randn({2, 3, 4});
  auto y12 = run_op("Softmax", {{"x", x}}, 1, {}, 12)[0];
  CHECK(torch::allclose(y12, at::softmax(x.reshape({2, 12}), 1).reshape({2, 3, 4})));
  auto y13 = run_op("Softmax", {{"x", x}}, 1, {}, 13)[0];
  CHECK(torch::allclose(y13, at::softmax(x, -1)));
}

TEST_CASE("onnx eval ops: NonMaxSuppression over many boxes shifted apart per class (batched_nms)", "[onnx-eval]") {
  // 90 classes x 1000 boxes in one call, each class's boxes shifted past the previous ones (torchvision's
  // batched_nms, as Mask R-CNN's box head exports): comparing each box with every kept one would be 4e9 IoUs.
  const int64_t classes = 90, per_class = 1000;
  auto gen = at::detail::createCPUGenerator(0);
  auto corner = at::rand({classes * per_class, 2}, gen) * 300;
  auto boxes = at::cat({corner, corner + 20}, 1);
  auto shift = (at::arange(classes * per_class, at::kLong).div(per_class, "floor") * 400).to(at::kFloat).unsqueeze(1);
  boxes = (boxes + shift).unsqueeze(0);
  auto scores = at::rand({1, 1, classes * per_class}, gen);
  auto kept = run_op("NonMaxSuppression",
                     {{"b", boxes}, {"s", scores}, {"m", l({classes * per_class})}, {"t", t({0.5f}, {1})}}, 1)[0];
  REQUIRE(kept.size(1) == 3);
  // The same as suppressing class by class: boxes of different classes never overlap.
  int64_t expected = 0;
  for (int64_t k = 0; k < classes; ++k) {
    auto slice = at::arange(k * per_class, (k + 1) * per_class);
    auto one = run_op("NonMaxSuppression",
                      {{"b", boxes.index_select(1, slice)}, {"s", scores.index_select(2, slice)},
                       {"m", l({per_class})}, {"t", t({0.5f}, {1})}},
                      1)[0];
    expected += one.size(0);
  }
  CHECK(kept.size(0) == expected);
  CHECK(kept.size(0) < classes * per_class);  // some overlap within a class
}
