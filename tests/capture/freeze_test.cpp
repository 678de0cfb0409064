// freeze_for_inference: same outputs, weights folded into the graph.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/capture/freeze.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

using namespace mlopt;

TEST_CASE("freeze_for_inference: a frozen CNN matches PyTorch eager with batchnorm folded", "[trace]") {
  auto source = load_torchscript(test::test_data("trace/cnn.pt"));
  auto expected = load_tensors(test::test_data("trace/cnn_expected.npz"));  // x, y
  for (bool optimize : {false, true}) {
    INFO("optimize_for_inference " << optimize);
    FreezeOptions options;
    options.optimize_for_inference = optimize;
    auto frozen = freeze_for_inference(source, options);
    CHECK(frozen.named_parameters().size() == 0);  // parameters became constants
    auto graph = frozen.get_method("forward").graph();
    int batch_norms = 0;
    for (const auto* node : graph->nodes()) batch_norms += node->kind() == c10::aten::batch_norm;
    CHECK(batch_norms == 0);  // folded into the convolution
    CHECK(torch::allclose(run_module(frozen, {expected[0].second})[0], expected[1].second, 1e-4, 1e-5));
  }
  CHECK(source.named_parameters().size() == 6);  // the source is untouched (conv, bn, fc: weight and bias)
}
