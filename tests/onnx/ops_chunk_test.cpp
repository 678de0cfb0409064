// chunk along a dim known only at run time (onnx/ops/shape.cpp): RAFT runs
// both frames through its encoder as one batch and chunks the features back
// into two. Pieces of ceil(n / chunks), the last the rest, at two sizes.
#include <catch2/catch.hpp>

#include "onnx/ort_oracle.h"

using mlopt::test::expect_matches_ort;

TEST_CASE("onnx op: chunk of a dynamic dim (two frames batched, then split back)", "[onnx-ort]") {
  auto r = expect_matches_ort(
      "def forward(self, a, b):\n"
      "  both = torch.cat([a, b], dim=0) * 2.0\n"
      "  fa, fb = torch.chunk(both, chunks=2, dim=0)\n"
      "  p, q, s = torch.chunk(torch.cat([a, a, b], dim=0), 3, 0)\n"
      "  return fa - fb, p + q - s",
      {"a:batch=2x3x4", "b:batch=2x3x4"}, {3, 5});
  CHECK(r.ops["Split"] == 2);
}
