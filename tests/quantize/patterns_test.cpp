// The pattern tables carry each layer kind's rules: the driver and the
// rewrites ask the table, never compare kind strings themselves.
#include <catch2/catch.hpp>

#include "mlopt/quantize/onnx_patterns.h"
#include "mlopt/quantize/onnx_rewrite.h"
#include "mlopt/quantize/patterns.h"

namespace quant = mlopt::quant;

namespace {

const quant::LayerPattern& torch_pattern(const std::string& kind) {
  for (const auto& p : quant::layer_patterns())
    if (p.kind == kind) return p;
  FAIL("no TorchScript pattern " << kind);
  throw;
}
const quant::OnnxPattern& onnx_pattern(const std::string& op) {
  for (const auto& p : quant::onnx_patterns())
    if (p.op_type == op) return p;
  FAIL("no ONNX pattern " << op);
  throw;
}

}  // namespace

TEST_CASE("quantize patterns: TorchScript entries carry rewrite, per-channel and BatchNorm rules", "[quantize]") {
  using R = quant::Int8Rewrite;
  using BN = quant::BatchNormFolding;
  CHECK(torch_pattern("lstm").rewrite == R::recurrent);
  CHECK(torch_pattern("gru").rewrite == R::recurrent);
  CHECK(torch_pattern("embedding").rewrite == R::embedding_rows);
  CHECK(torch_pattern("linear").rewrite == R::graph_passes);
  for (const char* kind : {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"})
    CHECK_FALSE(torch_pattern(kind).per_channel);
  CHECK(torch_pattern("conv2d").per_channel);
  CHECK(torch_pattern("conv2d").batch_norm == BN::conv);
  CHECK(torch_pattern("linear").batch_norm == BN::linear);
  CHECK(torch_pattern("lstm").batch_norm == BN::none);
  // A kind with no kernel in a mode is listed (and kept float) rather than missing.
  CHECK_FALSE(quant::supported_in_mode(torch_pattern("conv_transpose3d"), "static"));
  CHECK(quant::supported_in_mode(torch_pattern("conv_transpose3d"), "fp16"));
}

TEST_CASE("quantize patterns: ONNX entries carry their rewrites and say why a mode keeps them float", "[quantize]") {
  CHECK(onnx_pattern("Conv").static_rewrite == &quant::qdq_weight_and_bias);
  CHECK(onnx_pattern("Conv").dynamic_rewrite == nullptr);
  CHECK(onnx_pattern("Gemm").dynamic_rewrite == &quant::matmul_integer);
  CHECK(quant::float_reason(onnx_pattern("Conv"), "static").empty());
  CHECK(quant::float_reason(onnx_pattern("Conv"), "fp16").empty());
  CHECK(quant::float_reason(onnx_pattern("Conv"), "dynamic") == "no dynamic int8 form for Conv in ONNX (use --mode static)");
  CHECK(quant::float_reason(onnx_pattern("ConvTranspose"), "static") == "no int8 form for ConvTranspose in ONNX");
  REQUIRE(quant::onnx_float_only_op("LSTM") != nullptr);
  CHECK(quant::onnx_float_only_op("GRU")->why == "standard ONNX has no int8 recurrent op (quantize to .pt for quantized GRU)");
  CHECK(quant::onnx_float_only_op("Conv") == nullptr);
  CHECK(quant::onnx_quantized_op("MatMulInteger"));
  CHECK_FALSE(quant::onnx_quantized_op("MatMul"));
}
