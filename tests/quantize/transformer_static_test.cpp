// quantize --mode static on models with attention: LibTorch's observer pass
// cannot go inside nn.MultiheadAttention (its functional forward concatenates
// the q/k/v projections as a list, which the pass tried to observe: a ViT's
// static .pt failed with "Expected a value of type 'Tensor' ... 'List[Tensor]'")
// nor through a fused fast-path `if` (nn.TransformerEncoderLayer: "branches for
// `if` should return values that are observed consistently"). Those modules
// stay float, each row saying why; the layers around them are static int8.
#include <catch2/catch.hpp>

#include <string>

#include "mlopt/quantize/quantize.h"
#include "quantize/quantized_ops.h"
#include "support/test_support.h"

using mlopt::test::count_op;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

mlopt::QuantizeResult quantize_static(const std::string& fixture, const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = test_data(fixture);
  o.mode = "static";
  o.inputs = {"tokens:batch=4x12:int64:1..20"};
  o.no_latency = true;
  o.output = temp_dir("quantize_transformer_static") + "/" + out;
  return mlopt::quantize(o, {});
}

const mlopt::QuantizedLayer& row(const mlopt::QuantizeResult& r, const std::string& name) {
  for (const auto& l : r.layers)
    if (l.name == name) return l;
  FAIL("no report row " << name);
  throw;
}

}  // namespace

TEST_CASE("quantize static: nn.MultiheadAttention stays float, the blocks around it are int8", "[quantize]") {
  auto r = quantize_static("quantize_transformer.pt", "transformer.pt");  // hand-built blocks around nn.MultiheadAttention
  CHECK(r.exit_code == 0);
  CHECK(r.output_sqnr_db > 20.0);
  int attention_rows = 0, static_rows = 0;
  for (const auto& l : r.layers) {
    INFO(l.name << ": " << l.float_reason);
    if (l.name.find("attn") != std::string::npos) {
      ++attention_rows;
      CHECK_FALSE(l.quantized);
      CHECK(l.float_reason == "inside MultiheadAttention (static int8 of attention: use --mode dynamic)");
    } else if (l.quantized) {
      ++static_rows;
    }
  }
  CHECK(attention_rows == 4);  // in_proj and out_proj of 2 blocks
  CHECK(static_rows >= 5);     // feed-forward layers and the head
  CHECK(count_op(r, "quantized::linear") >= 5);
}

TEST_CASE("quantize static: nn.TransformerEncoderLayer's fast path stays float with its reason", "[quantize]") {
  for (std::string fixture : {"quantize_encoder.pt", "quantize_encoder_plain.pt"}) {
    INFO(fixture);
    auto r = quantize_static(fixture, "encoder.pt");
    CHECK(r.exit_code == 0);
    CHECK(r.output_sqnr_db > 20.0);
    const auto& ff = row(r, "encoder.layers.0.linear1");
    CHECK_FALSE(ff.quantized);
    CHECK(ff.float_reason ==
          "inside a transformer layer with PyTorch's fused fast path (static int8 of it: use --mode dynamic)");
    CHECK(row(r, "head").quantized);
    CHECK(count_op(r, "quantized::linear") == 1);
  }
}
