// An nn.TransformerEncoder given a key padding mask (from the token ids, or a
// second bool input) exports, and matches LibTorch in ONNX Runtime on padded
// batches of several lengths. In eval mode PyTorch turns such batches into
// nested tensors for its fused kernels, which ONNX has no form of: the
// exporter lowers that encoder to its unfused path with the mask
// (tests/data/onnx/encoder_*.pt, made by tests/fixtures/make_padding_mask_fixtures.py).
#include <catch2/catch.hpp>

#include "mlopt/core/model_io.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

using mlopt::test::compare_with_ort;

namespace {

constexpr double kMaskTolerance = 1e-4;

// Token ids 1..49, row i right-padded with 0 after lengths[i] tokens.
at::Tensor padded_tokens(const std::vector<int64_t>& lengths, int64_t seq, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto tokens = at::randint(1, 50, {static_cast<int64_t>(lengths.size()), seq}, gen, at::kLong);
  for (size_t i = 0; i < lengths.size(); ++i) tokens[static_cast<int64_t>(i)].slice(0, lengths[i]).fill_(0);
  return tokens;
}

void check_all(const mlopt::test::OrtComparison& r, size_t runs) {
  REQUIRE(r.max_rel_error.size() == runs);
  for (size_t k = 0; k < runs; ++k) {
    INFO("run " << k << " (0: example sizes, then other sizes, then padded batches)");
    CHECK(r.max_rel_error[k] < kMaskTolerance);
  }
  CHECK(r.ops.count("If") == 0);  // the fast-path and nested-tensor choices are made at export time
}

}  // namespace

TEST_CASE("onnx: TransformerEncoder with a padding mask from the token ids matches ONNX Runtime on padded batches",
          "[onnx-ort][onnx-transformer-mask]") {
  auto module = mlopt::load_torchscript(mlopt::test::test_data("onnx/encoder_padding_mask.pt"));
  std::vector<std::vector<at::Tensor>> padded = {{padded_tokens({10, 7, 3, 1}, 10, 1)},
                                                 {padded_tokens({12, 12, 5, 9, 2, 12}, 12, 2)},
                                                 {padded_tokens({4, 1}, 4, 3)}};
  auto r = compare_with_ort(module, {"tokens:batch=4xseq=10:int64:1..50"}, {6}, 17, padded);
  check_all(r, 2 + padded.size());
}

TEST_CASE("onnx: TransformerEncoder (sequence first) with a padding mask input matches ONNX Runtime on padded batches",
          "[onnx-ort][onnx-transformer-mask]") {
  auto module = mlopt::load_torchscript(mlopt::test::test_data("onnx/encoder_mask_input.pt"));
  std::vector<std::vector<at::Tensor>> padded;
  for (auto lengths : std::vector<std::vector<int64_t>>{{10, 7, 3, 1}, {8, 8, 2}, {5}}) {
    int64_t seq = lengths.front();
    auto tokens = padded_tokens(lengths, seq, lengths.size());
    padded.push_back({tokens, tokens == 0});
  }
  auto r = compare_with_ort(module, {"tokens:batch=4xseq=10:int64:1..50", "mask:batch=4xseq=10:bool"}, {}, 17,
                            padded);
  check_all(r, 1 + padded.size());
}
