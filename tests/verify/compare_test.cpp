#include <catch2/catch.hpp>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include "mlopt/verify/compare.h"

using namespace mlopt;

TEST_CASE("compare: identical outputs pass with zero error", "[verify]") {
  auto a = torch::randn({4, 10});
  auto r = compare_tensors("logits", a, a.clone(), Tolerance{});
  CHECK(r.passed);
  CHECK(r.max_abs_error == 0);
  CHECK(r.cosine_similarity == Approx(1.0));
  CHECK(r.classifier);
  REQUIRE(r.top1_agreement);
  CHECK(*r.top1_agreement == 1.0);
}

TEST_CASE("compare: metrics match hand-computed values", "[verify]") {
  auto b = torch::tensor({1.0f, -2.0f, 4.0f, 0.0f});
  auto a = torch::tensor({1.0f, -2.5f, 4.0f, 0.1f});
  Tolerance t;
  auto r = compare_tensors("y", a, b, t);
  CHECK(r.max_abs_error == Approx(0.5));
  CHECK(r.max_rel_error == Approx(0.25));  // 0.5 / |-2|; b == 0 is left out
  CHECK(r.mean_abs_error == Approx(0.6 / 4).epsilon(1e-6));
  CHECK(r.outside_count == 2);
  CHECK(r.outside_share == Approx(0.5));
  double dot = 1 + 5 + 16, na = 1 + 6.25 + 16 + 0.01, nb = 1 + 4 + 16;
  CHECK(r.cosine_similarity == Approx(dot / std::sqrt(na * nb)).epsilon(1e-6));
  CHECK_FALSE(r.classifier);
  CHECK_FALSE(r.passed);
  REQUIRE(r.failures.size() == 2);  // outside tolerance, cosine
  CHECK_THAT(r.failures[0], Catch::Contains("2 of 4 elements"));
}

TEST_CASE("compare: rtol/atol follow numpy.allclose", "[verify]") {
  auto b = torch::tensor({100.0, 1.0}, at::kDouble);
  Tolerance t;
  t.rtol = 1e-2;
  t.atol = 0;
  t.scale_atol = 0;
  t.min_cosine = 0;
  CHECK(compare_tensors("y", torch::tensor({100.9, 1.009}, at::kDouble), b, t).passed);
  CHECK_FALSE(compare_tensors("y", torch::tensor({101.1, 1.0}, at::kDouble), b, t).passed);
}

TEST_CASE("compare: the fp32 absolute tolerance grows with the output's scale", "[verify]") {
  // A deep network's float sums in another order: an element near zero carries
  // rounding relative to the large ones (ResNet-50 FCN in ONNX Runtime against
  // eager: 17% of the elements outside atol=1e-5 rtol=1e-4, max error 1.5e-4 at
  // outputs up to 2.5).
  auto b = torch::tensor({2.5, 0.0, -1.0, 0.001}, at::kDouble);
  Tolerance t = Tolerance::for_precision("fp32");
  CHECK(t.scale_atol == 1e-4);
  auto rounding = compare_tensors("out", b + torch::tensor({0.0, 2e-4, 0.0, -2e-4}, at::kDouble), b, t);
  CHECK(rounding.passed);
  CHECK(rounding.atol_used == Approx(1e-5 + 2.5e-4));
  // A real error at the same elements is still an error.
  auto wrong = compare_tensors("out", b + torch::tensor({0.0, 1e-3, 0.0, 0.0}, at::kDouble), b, t);
  CHECK_FALSE(wrong.passed);
  CHECK_THAT(wrong.failures.at(0), Catch::Contains("1 of 4 elements") && Catch::Contains("atol=0.00026"));
  // The looser precisions keep their own absolute tolerance.
  CHECK(Tolerance::for_precision("fp16").scale_atol == 0);
}

TEST_CASE("compare: fp32 scores behind a sigmoid carry the logits' relative error", "[verify]") {
  // FCOS-ResNet50's detection scores (0.2 and up) against its own ONNX export:
  // 5.4e-5 apart, rounding of the logits before the sigmoid. rtol 1e-3 is
  // torch.onnx.verification's; a real error at the same scores still fails.
  auto b = torch::tensor({0.62, 0.35, 0.21}, at::kDouble);
  Tolerance t = Tolerance::for_precision("fp32");
  CHECK(compare_tensors("scores", b + torch::tensor({5.4e-5, -5.4e-5, 0.0}, at::kDouble), b, t).passed);
  auto wrong = compare_tensors("scores", b + torch::tensor({0.0, 0.0, 1e-3}, at::kDouble), b, t);
  CHECK_FALSE(wrong.passed);
  CHECK_THAT(wrong.failures.at(0), Catch::Contains("1 of 3 elements"));
}

TEST_CASE("compare: top-1 agreement of classifier outputs", "[verify]") {
  auto b = torch::tensor({{0.f, 1.f}, {1.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}});
  auto a = torch::tensor({{0.f, 1.f}, {1.f, 0.f}, {1.f, 0.f}, {1.f, 0.f}});
  Tolerance t = Tolerance::for_precision("int8");
  auto r = compare_tensors("logits", a, b, t);
  REQUIRE(r.top1_agreement);
  CHECK(*r.top1_agreement == Approx(0.75));
  CHECK_FALSE(r.passed);  // 0.75 < 0.9
}

TEST_CASE("compare: shape, dtype and count mismatches are reported as such", "[verify]") {
  Tolerance t;
  auto r = compare_tensors("y", torch::zeros({2, 3}), torch::zeros({3, 2}), t);
  CHECK(r.shape_mismatch);
  CHECK_FALSE(r.passed);
  CHECK_THAT(r.failures.at(0), Catch::Contains("shape [2x3] vs [3x2]"));

  auto d = compare_tensors("y", torch::zeros({3}, at::kLong), torch::zeros({3}), t);
  CHECK(d.dtype_mismatch);
  CHECK_FALSE(d.passed);

  // fp16 vs fp32 is a noted difference, compared numerically.
  auto h = compare_tensors("y", torch::ones({3}).to(at::kHalf), torch::ones({3}), t);
  CHECK(h.dtype_differs);
  CHECK_FALSE(h.dtype_mismatch);
  CHECK(h.passed);

  auto report = compare_outputs({torch::zeros({2})}, {torch::zeros({2}), torch::zeros({1})}, t);
  CHECK(report.count_mismatch);
  CHECK_FALSE(report.passed);
  CHECK(report.to_json()["count_b"] == 2);
}

TEST_CASE("compare: integer outputs must match exactly, NaN in one side fails", "[verify]") {
  Tolerance t;
  t.max_outside = 0.5;
  auto r = compare_tensors("idx", torch::tensor({1, 2, 3}), torch::tensor({1, 2, 4}), t);
  CHECK_FALSE(r.passed);
  auto n = compare_tensors("y", torch::tensor({1.f, NAN}), torch::tensor({1.f, 2.f}), Tolerance{});
  CHECK_FALSE(n.passed);
  CHECK(std::isinf(n.max_abs_error));
  auto both = compare_tensors("y", torch::tensor({1.f, NAN}), torch::tensor({1.f, NAN}), Tolerance{});
  CHECK(both.passed);
}

TEST_CASE("compare: merging batches pools the metrics exactly", "[verify]") {
  Tolerance t = Tolerance::for_precision("fp16");
  auto a = torch::randn({8, 5}), b = a + 0.01 * torch::randn({8, 5});
  auto whole = compare_tensors("y", a, b, t);
  auto merged = merge_comparisons({compare_tensors("y", a.slice(0, 0, 3), b.slice(0, 0, 3), t),
                                   compare_tensors("y", a.slice(0, 3), b.slice(0, 3), t)},
                                  t);
  CHECK(merged.elements == whole.elements);
  CHECK(merged.max_abs_error == Approx(whole.max_abs_error));
  CHECK(merged.mean_abs_error == Approx(whole.mean_abs_error));
  CHECK(merged.cosine_similarity == Approx(whole.cosine_similarity));
  CHECK(merged.outside_count == whole.outside_count);
  CHECK(*merged.top1_agreement == Approx(*whole.top1_agreement));
  CHECK(merged.passed == whole.passed);
}

TEST_CASE("compare: precision defaults loosen from fp32 to int8", "[verify]") {
  auto f32 = Tolerance::for_precision("fp32"), f16 = Tolerance::for_precision("fp16"),
       i8 = Tolerance::for_precision("int8");
  CHECK(f32.rtol == 1e-3);
  CHECK(f32.atol == 1e-5);
  CHECK(f16.rtol > f32.rtol);
  CHECK(i8.min_cosine < f16.min_cosine);
  CHECK(Tolerance::for_precision("bf16").rtol > f16.rtol);
}
