#include <catch2/catch.hpp>

#include <limits>

#include "mlopt/core/input_spec.h"
#include "mlopt/core/memory_budget.h"
#include "mlopt/core/saturating_count.h"

using namespace mlopt;

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr uint64_t kMaxU = std::numeric_limits<uint64_t>::max();
}  // namespace

TEST_CASE("saturating count: products and sums stop at the maximum instead of wrapping", "[core]") {
  CHECK(saturating_mul(int64_t{3}, int64_t{7}) == 21);
  CHECK(saturating_mul(int64_t{1} << 32, int64_t{1} << 32) == kMax);
  CHECK(saturating_mul(kMax, int64_t{2}) == kMax);
  CHECK(saturating_mul(uint64_t{1} << 40, uint64_t{1} << 40) == kMaxU);
  CHECK(saturating_add(kMaxU - 1, uint64_t{5}) == kMaxU);
  CHECK(saturating_add(uint64_t{2}, uint64_t{5}) == 7);
}

TEST_CASE("saturating count: numel of hostile shapes saturates, zero dims empty or count as one", "[core]") {
  CHECK(saturating_numel({2, 3, 4}) == 24);
  CHECK(saturating_numel({}) == 1);
  CHECK(saturating_numel({1 << 30, 1 << 30, 1 << 30}) == kMax);
  // 2^60 x 2^60 x 0: the true product is 0, but the running product saturated first.
  CHECK(saturating_numel({0, 1LL << 60, 1LL << 60}) == 0);
  CHECK(saturating_numel({5, 0, 7}) == 0);
  CHECK(saturating_numel({5, 0, 7}, /*zero_as_one=*/true) == 35);
}

TEST_CASE("saturating count: specs resized past the limit are refused, and their bytes saturate", "[core]") {
  auto spec = parse_input_spec("x:batch=1x32768x65536");
  CHECK_NOTHROW(require_within_spec_limit(spec));
  auto huge = spec.with_dynamic_size(int64_t{1} << 40);
  CHECK(huge.numel() == kMax);
  CHECK_THROWS_WITH(require_within_spec_limit(huge), Catch::Contains("input 'x'") && Catch::Contains("over 2^63"));
  CHECK(input_bytes({huge}) == kMaxU);
  CHECK_THROWS_WITH(parse_input_spec("x:4294967296x4294967296x4"), Catch::Contains("refusing to allocate"));
}
