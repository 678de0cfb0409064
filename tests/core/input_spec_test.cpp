#include <catch2/catch.hpp>

#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"

using namespace mlopt;

TEST_CASE("input spec: static shape with default dtype", "[core][input_spec]") {
  auto s = parse_input_spec("x:1x3x224x224");
  CHECK(s.name == "x");
  CHECK(s.shape() == std::vector<int64_t>{1, 3, 224, 224});
  CHECK(s.dtype == "float32");
  CHECK_FALSE(s.has_dynamic_dims());
  CHECK(s.numel() == 3 * 224 * 224);
}

TEST_CASE("input spec: dynamic dims, dtype and bounds", "[core][input_spec]") {
  auto s = parse_input_spec("ids:batch=2xseq=64:int64:0..8000");
  REQUIRE(s.dims.size() == 2);
  CHECK(s.dims[0].name == "batch");
  CHECK(s.dims[0].size == 2);
  CHECK(s.dims[1].name == "seq");
  CHECK(s.dims[1].size == 64);
  CHECK(s.dtype == "int64");
  CHECK(*s.low == 0);
  CHECK(*s.high == 8000);
  CHECK(s.to_string() == "ids:batch=2xseq=64:int64:0..8000");
  CHECK(s.with_dynamic_size(5).shape() == std::vector<int64_t>{5, 5});
}

TEST_CASE("input spec: errors name the spec and what was expected", "[core][input_spec]") {
  auto message_of = [](const std::string& text) {
    try {
      parse_input_spec(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(message_of("x"), Catch::Contains("expected NAME:SHAPE"));
  CHECK_THAT(message_of("x:1xfoo"), Catch::Contains("'foo' is not a non-negative integer"));
  CHECK_THAT(message_of("x:1x-1"), Catch::Contains("not a non-negative integer"));
  // A 0-sized dim (an empty batch or sequence) is a valid spec.
  CHECK(message_of("x:0x4") == "no error");
  CHECK(parse_input_spec("x:batch=0x4").numel() == 0);
  CHECK_THAT(message_of("x:2x3:complex"), Catch::Contains("unknown dtype 'complex'"));
  CHECK_THAT(message_of("x:2:int64:5..1"), Catch::Contains("HIGH must be greater"));
  CHECK_THAT(message_of("x:1000000x1000000x1000000"), Catch::Contains("refusing to allocate"));
  CHECK_THAT(message_of("1x:3"), Catch::Contains("not a valid input name"));
  // Bounds the random draw cannot represent are refused here, not by LibTorch mid-run.
  CHECK_THAT(message_of("x:2:float32:-1e39..1e39"), Catch::Contains("bounds -1e+39..1e+39 do not fit float32"));
  CHECK_THAT(message_of("x:2:float32:-3e38..3e38"), Catch::Contains("do not fit float32"));
  CHECK_THAT(message_of("x:2:float32:0..inf"), Catch::Contains("expected finite bounds"));
  CHECK_THAT(message_of("x:2:int64:0..1e20"), Catch::Contains("do not fit int64"));
  CHECK_THAT(message_of("x:2:float32:-1e30..1e30"), Catch::Contains("no error"));
  CHECK_THROWS_AS(parse_input_specs({"x:1", "x:2"}), Error);
}
