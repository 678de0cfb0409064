// Packed sequences (nn.utils.rnn.pack_padded_sequence around an RNN) are
// refused with one line that names the op and what to do instead.
#include <catch2/catch.hpp>

#include "onnx/ort_oracle.h"

TEST_CASE("onnx export: packed sequences are refused with one line naming the op", "[onnx]") {
  auto m = mlopt::test::make_module(
      "def forward(self, x, lengths):\n"
      "  data, sizes = torch._pack_padded_sequence(x, lengths, False)\n"
      "  y, l = torch._pad_packed_sequence(data * 2.0, sizes, False, 0.0, -1)\n"
      "  return y");
  try {
    mlopt::test::compare_with_ort(m, {"x:3x2x4", "lengths:2:int64:3..4"});
    FAIL("exported");
  } catch (const std::exception& e) {
    std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK_THAT(what, Catch::Contains("aten::_pack_padded_sequence") && Catch::Contains("run the RNN on the padded batch"));
  }
}
