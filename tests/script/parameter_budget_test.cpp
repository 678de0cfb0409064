// The parameter budget counts every tensor a model's __init__ creates and
// refuses the one that would take the total over the limit.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/error.h"
#include "mlopt/script/parameter_budget.h"

using mlopt::script::ParameterBudget;

TEST_CASE("script parameter budget: totals accumulate and the tensor over the limit is refused", "[script][hardening]") {
  ParameterBudget budget(1000);  // bytes
  budget.reserve({10, 10}, at::kFloat, "nn.Linear");  // 400 bytes
  budget.reserve({100}, at::kFloat, "nn.Linear");     // 800
  CHECK(budget.used_bytes() == 800);
  CHECK_THROWS_WITH(budget.reserve({10, 10}, at::kFloat, "nn.Conv2d"),
                    Catch::Contains("nn.Conv2d:") && Catch::Contains("refusing before allocating"));
  CHECK(budget.used_bytes() == 800);                  // the refused tensor is not counted
  budget.reserve({25}, at::kLong, "torch.zeros()");  // 200 more: exactly at the limit
  CHECK(budget.used_bytes() == 1000);
}

TEST_CASE("script parameter budget: dims whose product overflows int64 and negative dims are refused", "[script][hardening]") {
  ParameterBudget budget;
  CHECK_THROWS_WITH(budget.reserve({int64_t{1} << 40, int64_t{1} << 40}, at::kFloat, "nn.Linear"),
                    Catch::Contains("more than 16 EiB") || Catch::Contains("TiB"));
  CHECK_THROWS_WITH(budget.reserve({3, -5}, at::kFloat, "nn.Linear"), Catch::Contains("negative dimension"));
  CHECK(ParameterBudget::default_limit_bytes() == (uint64_t{1} << 31) * 4);
}
