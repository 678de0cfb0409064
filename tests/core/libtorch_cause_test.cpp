#include <catch2/catch.hpp>

#include "mlopt/core/libtorch_cause.h"
#include "support/test_support.h"

using mlopt::libtorch_cause;

TEST_CASE("libtorch cause: the interpreter's traceback yields its cause line", "[core]") {
  const std::string message =
      "The following operation failed in the TorchScript interpreter.\n"
      "Traceback of TorchScript (most recent call last):\n"
      "  File \"conv.py\", line 459, in _conv_forward\n"
      "        return F.conv2d(input, weight, bias, self.stride,\n"
      "               ~~~~~~~~ <--- HERE\n"
      "RuntimeError: Given groups=1, weight of size [32, 1, 3, 3], expected input[1, 3, 8, 8] to have 1 channels\n"
      "  more text\n";
  CHECK(libtorch_cause(message) == "Given groups=1, weight of size [32, 1, 3, 3], expected input[1, 3, 8, 8] to have 1 channels");
  CHECK(libtorch_cause("shape '[2, 12]' is invalid for input of size 8\nException raised from ...") ==
        "shape '[2, 12]' is invalid for input of size 8");
  // Leading blank lines (the TorchScript loader's messages) are skipped.
  CHECK(libtorch_cause("\nUnknown builtin op: torchvision::nms.\nCould not find any similar ops to torchvision::nms.\n") ==
        "Unknown builtin op: torchvision::nms.");
  // Without a cause line the first line stays.
  CHECK(libtorch_cause("The following operation failed in the TorchScript interpreter.\n  File x\n") ==
        "The following operation failed in the TorchScript interpreter.");
}

TEST_CASE("libtorch cause: a model failing on a wrong input says why in one line", "[cli]") {
  auto r = mlopt::test::run_mlopt({"profile", mlopt::test::test_data("prune/digits_cnn.pt"), "--input", "x:1x3x8x8"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("expected input[1, 3, 8, 8] to have 1 channels, but got 3 channels instead"));
  CHECK_THAT(r.err, !Catch::Contains("TorchScript interpreter"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}
