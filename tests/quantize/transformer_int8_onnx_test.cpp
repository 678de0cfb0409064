// quantize: an exported nn.TransformerEncoder quantized for ONNX Runtime:
// DynamicQuantizeLinear + MatMulInteger on every projection, the embedding
// table in int8 rows, the attention
// score products (activations only) kept float with the reason, checked in
// ONNX Runtime against the float file (fixture:
// tests/fixtures/make_transformer_fixtures.py).
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/quantize/quantize.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::run_shell;
using mlopt::test::shell_quote;
using mlopt::test::source_path;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

at::Tensor run_ort_tokens(const std::string& onnx_path, const at::Tensor& tokens) {
  return mlopt::test::run_in_ort(onnx_path, {{"tokens", tokens}}).at(0).second;
}

}  // namespace

TEST_CASE("transformer int8 onnx: every projection is MatMulInteger and ONNX Runtime agrees with float",
          "[quantize-transformer][onnx]") {
  auto dir = temp_dir("quantize_transformer_onnx");
  auto float_path = dir + "/encoder.onnx";
  auto e = run_mlopt({"export-onnx", test_data("quantize_encoder_plain.pt"), "--input",
                      "tokens:batch=16x12:int64:1..20", "-o", float_path});
  REQUIRE(e.exit_code == 0);
  mlopt::QuantizeOptions o;
  o.model.path = float_path;
  o.mode = "dynamic";
  o.output = dir + "/encoder.int8.onnx";
  auto r = mlopt::quantize(o, {});
  CHECK(r.exit_code == 0);
  CHECK(r.size_ratio < 0.35);  // 2 small layers: biases and LayerNorm stay float
  auto ops = mlopt::test::op_counts(mlopt::onnx_eval::Evaluator::load(r.output).model());
  CHECK(ops["MatMulInteger"] == 13);  // per layer q, k, v, out, linear1, linear2; and the head
  CHECK(ops["DynamicQuantizeLinear"] >= 9);
  int float_products = 0, embeddings = 0;
  for (const auto& l : r.layers) {
    if (l.kind == "embedding" && l.quantized) ++embeddings;
    INFO(l.name << ": " << l.float_reason);
    if (!l.quantized) {
      CHECK(l.kind == "matmul");
      CHECK_FALSE(l.float_reason.empty());
      ++float_products;
    }
  }
  CHECK(float_products == 4);  // QK^T and AV per layer: no weights
  CHECK(ops["MatMul"] == float_products);
  CHECK(embeddings == 1);  // the token table: int8 rows gathered with their scales
  CHECK(ops["Gather"] >= 2);

  mlopt::test::require_ort();
  auto tokens = at::randint(1, 20, {16, 12}, at::kLong);
  auto a = run_ort_tokens(float_path, tokens), b = run_ort_tokens(r.output, tokens);
  double cosine = (a.flatten() * b.flatten()).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
  CHECK(cosine > 0.99);
  CHECK(a.argmax(1).eq(b.argmax(1)).sum().item<int64_t>() >= 14);  // random-weight head: close logits
}
