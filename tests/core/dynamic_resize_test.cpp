#include "mlopt/core/dynamic_resize.h"

#include <catch2/catch.hpp>

using mlopt::parse_input_specs;

TEST_CASE("dynamic resize: each dim name moves to its own size, dims sharing a name stay equal", "[core]") {
  auto specs = parse_input_specs({"x:batch=2x3xseq=5", "mask:batch=2xseq=5", "y:4"});
  auto moved = mlopt::with_moved_dynamic_dims(specs);
  CHECK(moved[0].shape() == std::vector<int64_t>{3, 3, 7});
  CHECK(moved[1].shape() == std::vector<int64_t>{3, 7});
  CHECK(moved[2].shape() == std::vector<int64_t>{4});
  auto second = mlopt::with_moved_dynamic_dims(specs, 1);
  CHECK(second[0].shape() == std::vector<int64_t>{4, 3, 11});

  auto sizes = mlopt::moved_dynamic_dims(specs, moved);
  REQUIRE(sizes.size() == 2);
  CHECK(sizes[0].first == "batch");
  CHECK(sizes[0].second == std::pair<int64_t, int64_t>{2, 3});
  CHECK(sizes[1].first == "seq");
  CHECK(sizes[1].second == std::pair<int64_t, int64_t>{5, 7});
}

TEST_CASE("dynamic resize: specs without dynamic dims are unchanged", "[core]") {
  auto specs = parse_input_specs({"x:1x3x8x8"});
  CHECK(mlopt::with_moved_dynamic_dims(specs)[0].shape() == specs[0].shape());
  CHECK(mlopt::moved_dynamic_dims(specs, specs).empty());
}
