// quantize: int8 embedding tables (quantized::embedding_byte over prepacked
// per-row uint8 weights) on an Embedding -> LSTM -> Linear token classifier
// (fixture: tests/fixtures/make_quantize_fixtures.py, quantize_text_lstm.pt).
#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>
#include <torch/csrc/jit/mobile/import.h>
#include <torch/csrc/jit/mobile/module.h>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/quantize/embedding_int8.h"
#include "mlopt/quantize/engine.h"
#include "mlopt/quantize/int8_passes.h"
#include "mlopt/quantize/quantize.h"
#include "quantize/quantized_ops.h"
#include "support/test_support.h"

using mlopt::test::count_op;
using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

const char* kTokens = "tokens:batch=16x20:int64:0..500";

mlopt::QuantizeOptions text_options(const std::string& mode, const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = test_data("quantize_text_lstm.pt");
  o.mode = mode;
  o.inputs = {kTokens};
  o.no_latency = true;
  o.output = out;
  return o;
}

const mlopt::QuantizedLayer* layer_named(const mlopt::QuantizeResult& r, const std::string& name) {
  for (const auto& l : r.layers)
    if (l.name == name) return &l;
  return nullptr;
}

// Float tensors of the embedding table's shape among a module's graph constants and attributes.
int float_tables(torch::jit::Module& m) {
  int n = 0;
  auto is_table = [](const at::Tensor& t) { return t.scalar_type() == at::kFloat && t.dim() == 2 && t.size(0) == 500; };
  for (auto* node : m.get_method("forward").graph()->nodes()) {
    if (node->kind() != c10::prim::Constant) continue;
    auto v = torch::jit::toIValue(node->output());
    if (v && v->isTensor() && is_table(v->toTensor())) ++n;
  }
  for (const auto& a : m.named_attributes())
    if (a.value.isTensor() && is_table(a.value.toTensor())) ++n;
  return n;
}

at::Tensor tokens(int64_t batch, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(0, 500, {batch, 20}, g, at::TensorOptions().dtype(at::kLong));
}

double agreement(const at::Tensor& a, const at::Tensor& b) {
  return 100.0 * a.argmax(1).eq(b.argmax(1)).to(at::kDouble).mean().item<double>();
}

double sqnr(const at::Tensor& ref, const at::Tensor& got) {
  auto noise = (ref - got).pow(2).sum().item<double>();
  return 10 * std::log10(ref.pow(2).sum().item<double>() / std::max(noise, 1e-30));
}

}  // namespace

TEST_CASE("quantize: dynamic int8 embedding + LSTM runs embedding_byte and is a quarter of the fp32 file",
          "[quantize]") {
  auto out = temp_dir("quantize_embedding") + "/text.pt";
  auto r = mlopt::quantize(text_options("dynamic", out), {});
  CHECK(r.exit_code == 0);
  CHECK(count_op(r, "quantized::embedding_byte") == 1);
  CHECK(count_op(r, "aten::quantized_lstm") == 1);
  CHECK(count_op(r, "quantized::linear_dynamic") == 1);
  INFO("size " << r.size_before << " -> " << r.size_after);
  CHECK(r.size_ratio <= 0.27);
  CHECK(r.size_after == mlopt::file_size(out));
  CHECK(r.output_sqnr_db > 25.0);
  // The report lists the table with the error of its real per-row uint8 storage.
  auto* e = layer_named(r, "embedding");
  REQUIRE(e != nullptr);
  CHECK(e->kind == "embedding");
  CHECK(e->quantized);
  CHECK(e->weight_rel_error > 0);
  CHECK(e->weight_rel_error < 0.01);
  CHECK(e->weight_sqnr_db > 40.0);
  CHECK(e->output_sqnr_db > 25.0);  // measured alone (three layer classes)
  CHECK_THAT(r.to_text(), Catch::Contains("embedding") && Catch::Contains("quantized::embedding_byte x1"));

  // The archive holds the packed table, not the float one, and reproduces the float model.
  auto q = mlopt::load_torchscript(out);
  auto graph = q.get_method("forward").graph()->toString();
  CHECK_THAT(graph, Catch::Contains("quantized::embedding_byte"));
  CHECK_THAT(graph, !Catch::Contains("aten::embedding("));
  CHECK(float_tables(q) == 0);
  auto float_model = mlopt::load_torchscript(test_data("quantize_text_lstm.pt"));
  auto x = tokens(256, 7);
  auto a = mlopt::run_module(float_model, {x})[0], b = mlopt::run_module(q, {x})[0];
  CHECK(sqnr(a, b) > 25.0);
  CHECK(agreement(a, b) >= 95.0);
}

TEST_CASE("quantize: int8 embedding archive reloads in a fresh process and matches fp32", "[quantize]") {
  auto dir = temp_dir("quantize_embedding");
  auto r = run_mlopt({"quantize", test_data("quantize_text_lstm.pt"), "--mode", "dynamic", "--input", kTokens,
                      "--no-latency", "-q", "-o", dir + "/text.pt"});
  REQUIRE(r.exit_code == 0);
  // `mlopt verify` loads the archive (custom-class EmbeddingPackedParamsBase state) in its own process
  // and compares it with the float model under its int8 tolerances (cosine, top-1 agreement).
  auto v = run_mlopt({"verify", dir + "/text.pt", test_data("quantize_text_lstm.pt"), "--input",
                      "tokens:batch=64x20:int64:0..500", "--json"});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
}

TEST_CASE("quantize: int8 embedding in a .ptl file loads and runs in the lite interpreter (qnnpack)", "[quantize]") {
  auto dir = temp_dir("quantize_embedding");
  auto out = dir + "/text.ptl";
  auto r = run_mlopt({"quantize", test_data("quantize_text_lstm.pt"), "--mode", "dynamic", "--input", kTokens,
                      "--no-latency", "--json", "-q", "-o", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["engine"] == "qnnpack");
  CHECK(j["format"] == "torchscript-lite");
  CHECK(j["quantized_ops"]["quantized::embedding_byte"] == 1);
  CHECK(j["size_ratio"].get<double>() <= 0.27);
  mlopt::quant::EngineGuard engine("qnnpack");
  auto lite = torch::jit::_load_for_mobile(out);
  auto float_model = mlopt::load_torchscript(test_data("quantize_text_lstm.pt"));
  auto x = tokens(64, 11);
  auto got = lite.forward({x}).toTensor();
  auto ref = mlopt::run_module(float_model, {x})[0];
  CHECK(sqnr(ref, got) > 25.0);
  CHECK(agreement(ref, got) >= 95.0);
}

TEST_CASE("quantize: --skip embedding keeps the table in float and says why", "[quantize]") {
  auto dir = temp_dir("quantize_embedding");
  auto r = run_mlopt({"quantize", test_data("quantize_text_lstm.pt"), "--mode", "dynamic", "--input", kTokens,
                      "--skip", "embedding", "--no-latency", "--json", "-q", "-o", dir + "/skip.pt"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK_FALSE(j["quantized_ops"].contains("quantized::embedding_byte"));
  CHECK(j["quantized_ops"]["aten::quantized_lstm"] == 1);
  CHECK(j["size_ratio"].get<double>() > 0.5);
  bool listed = false;
  for (const auto& l : j["layers"]) {
    if (l["name"] != "embedding") continue;
    listed = true;
    CHECK(l["kind"] == "embedding");
    CHECK_FALSE(l["quantized"].get<bool>());
    CHECK(l["float_reason"] == "--skip embedding");
  }
  CHECK(listed);
  auto q = mlopt::load_torchscript(dir + "/skip.pt");
  CHECK_THAT(q.get_method("forward").graph()->toString(), Catch::Contains("aten::embedding("));
}

TEST_CASE("quantize: a float fallback plan keeps the embedding float, static mode quantizes it too", "[quantize]") {
  auto model = mlopt::load_torchscript(test_data("quantize_text_lstm.pt"));
  model.eval();
  auto x = tokens(32, 3);
  auto ref = mlopt::run_module(model, {x})[0];
  SECTION("the accuracy-budget fallback builds with the table back in float") {
    mlopt::quant::EngineGuard engine("onednn");
    mlopt::quant::Int8Plan plan;
    plan.weights = mlopt::quant::Granularity::per_tensor;
    plan.float_modules = {"embedding"};
    auto q = mlopt::quant::quantize_dynamic(model, plan);
    auto ops = mlopt::quant::quantized_op_counts(q);
    for (const auto& [op, n] : ops) CHECK(op != "quantized::embedding_byte");
    CHECK(float_tables(q) == 1);
    // Only the table is float: the rest is as quantized as before.
    auto all = mlopt::quant::quantize_dynamic(model, {mlopt::quant::Granularity::per_tensor, {}});
    auto a = mlopt::run_module(q, {x})[0], b = mlopt::run_module(all, {x})[0];
    CHECK(sqnr(ref, a) > sqnr(ref, b));
  }
  SECTION("static mode: the lookup is weight-only, its output float") {
    auto out = temp_dir("quantize_embedding") + "/static.pt";
    auto r = mlopt::quantize(text_options("static", out), {});
    CHECK(count_op(r, "quantized::embedding_byte") == 1);
    CHECK(count_op(r, "quantized::linear") == 1);
    auto* l = layer_named(r, "lstm");
    REQUIRE(l != nullptr);
    CHECK_FALSE(l->quantized);  // no static recurrent kernel
    CHECK(layer_named(r, "embedding")->quantized);
    auto q = mlopt::load_torchscript(out);
    CHECK(sqnr(ref, mlopt::run_module(q, {x})[0]) > 20.0);
  }
}

TEST_CASE("quantize: per-row uint8 tables restore each row within half a step", "[quantize]") {
  auto w = at::randn({50, 64});
  w[3].fill_(0.25);  // a constant row (zero range) is exact
  auto q = mlopt::quant::quantize_embedding_rows(w);
  CHECK(q.qscheme() == at::kPerChannelAffineFloatQParams);
  CHECK(q.scalar_type() == at::kQUInt8);
  auto restored = q.dequantize();
  auto step = (std::get<0>(w.max(1)) - std::get<0>(w.min(1))) / 255.0;
  auto err = (restored - w).abs().amax(1);
  CHECK((err <= step * 0.5 + 1e-6).all().item<bool>());
  CHECK((restored[3] - w[3]).abs().max().item<double>() < 1e-6);
}
