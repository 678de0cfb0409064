// serve REPO's routing (traffic_split.h) and its drift rows from host tensors (drift_rows.h).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>

#include "mlopt/core/error.h"
#include "mlopt/serve/drift_rows.h"
#include "mlopt/serve/traffic_split.h"

using namespace mlopt::serving;

TEST_CASE("serve: --split shares hold over every cycle, and a key always picks the same version", "[serve][registry]") {
  const TrafficSplit split = parse_split("digits=1:90,2:10");
  CHECK(split.model == "digits");
  REQUIRE(split.total() == 100);
  std::map<std::string, int> count;
  for (uint64_t slot = 0; slot < 300; ++slot) ++count[split.version_at(slot)];
  CHECK(count["1"] == 270);
  CHECK(count["2"] == 30);
  CHECK(slot_of_key("user-1", 100) == slot_of_key("user-1", 100));
  CHECK_THROWS_AS(parse_split("digits"), mlopt::Error);
  CHECK_THROWS_WITH(parse_split("digits=1:90,2:x"), Catch::Contains("share of '2'"));
  CHECK_THROWS_WITH(parse_split("digits=1:0"), Catch::Contains("positive"));
}

TEST_CASE("serve: drift rows from FP32 host tensors softmax logits", "[serve][registry]") {
  HostTensor input{"x", "FP32", {2, 2}, std::string(16, '\0')};
  const float in[] = {1, 3, 0, 0};
  std::memcpy(input.bytes.data(), in, sizeof in);
  HostTensor logits{"y", "FP32", {2, 2}, std::string(16, '\0')};
  const float out[] = {0, 0, 5, -5};
  std::memcpy(logits.bytes.data(), out, sizeof out);
  const auto rows = drift_rows({input}, {logits});
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].inputs[0].sum == Approx(4));
  CHECK(rows[0].inputs[0].sum_sq == Approx(10));
  CHECK(rows[0].outputs[0].confidence == Approx(0.5));
  CHECK(rows[1].outputs[0].predicted == 0);
  CHECK(rows[1].outputs[0].confidence == Approx(1 / (1 + std::exp(-10.0))));
  CHECK(rows[1].outputs[0].classes == 2);
}
