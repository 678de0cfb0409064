// The check a .ptl file passes against the module it came from (model_io.h:
// outputs_close): each output's max abs diff within atol + rtol x its largest
// magnitude, so the lite interpreter's rounding passes and a wrong kernel fails.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <limits>

#include "mlopt/core/model_io.h"

using mlopt::outputs_close;

TEST_CASE("outputs_close: rounding noise relative to an output's scale passes, near-zero elements included",
          "[core][model_io]") {
  // ResNet-50's logits: magnitude ~1, some near 0; the lite interpreter moved them by 2e-5.
  auto logits = at::tensor({1.5, -0.8, 3e-6, -2e-6, 0.25}, at::kFloat);
  auto lite = logits + at::tensor({2e-5, -1e-5, 2e-5, -2e-5, 1e-5}, at::kFloat);
  CHECK(outputs_close({logits}, {lite}, 1e-4, 1e-5));
  CHECK_FALSE(at::allclose(logits, lite, 1e-4, 1e-5));  // what the element-wise check said
}

TEST_CASE("outputs_close: a wrong output, NaN, or one output of several off fails", "[core][model_io]") {
  auto a = at::tensor({1.0, 2.0, 3.0}, at::kFloat);
  CHECK_FALSE(outputs_close({a}, {a + at::tensor({0.0, 0.01, 0.0}, at::kFloat)}, 1e-4, 1e-5));
  auto nan = a.clone();
  nan[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(outputs_close({a}, {nan}, 1e-4, 1e-5));
  // Each output against its own scale: boxes in the hundreds do not excuse scores near 1.
  auto boxes = at::tensor({120.0, 300.0}, at::kFloat), scores = at::tensor({0.9, 0.1}, at::kFloat);
  CHECK(outputs_close({boxes, scores}, {boxes + 0.01, scores}, 1e-4, 1e-5));
  CHECK_FALSE(outputs_close({boxes, scores}, {boxes, scores + 0.01}, 1e-4, 1e-5));
  CHECK(outputs_close({at::empty({0, 4})}, {at::empty({0, 4})}, 1e-4, 1e-5));
}
