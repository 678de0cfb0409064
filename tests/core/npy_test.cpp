#include <catch2/catch.hpp>
#include <torch/script.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/npy.h"
#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

using namespace mlopt;

TEST_CASE("npy: tensors of every model dtype round-trip through .npy and .npz", "[core][npy]") {
  std::string dir = test::temp_dir("npy");
  std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"f32", torch::randn({2, 3})},
      {"f64", torch::randn({4}, at::kDouble)},
      {"f16", torch::randn({3, 1}).to(at::kHalf)},
      {"i64", torch::randint(-50, 50, {5}, at::kLong)},
      {"i32", torch::randint(-50, 50, {2, 2}, at::kInt)},
      {"i8", torch::randint(-50, 50, {7}, at::kChar)},
      {"u8", torch::randint(0, 250, {7}, at::kByte)},
      {"b", torch::randint(0, 2, {3}, at::kLong).to(at::kBool)},
      {"scalar", torch::scalar_tensor(3.5)},
  };
  save_tensors(dir + "/all.npz", tensors);
  auto loaded = load_tensors(dir + "/all.npz");
  REQUIRE(loaded.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    CHECK(loaded[i].first == tensors[i].first);
    CHECK(loaded[i].second.scalar_type() == tensors[i].second.scalar_type());
    CHECK(torch::equal(loaded[i].second, tensors[i].second));
  }
  save_tensors(dir + "/one.npy", {{"", tensors[0].second}});
  CHECK(torch::equal(load_tensors(dir + "/one.npy")[0].second, tensors[0].second));
}

TEST_CASE("npy: malformed and truncated files are errors naming the file", "[core][npy]") {
  std::string dir = test::temp_dir("npy-bad");
  auto good = serialize_npy(to_npy(torch::randn({16, 16})));
  write_file_atomically(dir + "/trunc.npy", good.substr(0, good.size() - 10));
  write_file_atomically(dir + "/magic.npy", "not numpy at all");
  write_file_atomically(dir + "/hdr.npy", good.substr(0, 20));
  CHECK_THROWS_WITH(read_npy(dir + "/trunc.npy"), Catch::Contains("trunc.npy") && Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read_npy(dir + "/magic.npy"), Catch::Contains("not a .npy file"));
  CHECK_THROWS_WITH(read_npy(dir + "/hdr.npy"), Catch::Contains("truncated .npy header"));
  write_file_atomically(dir + "/bad.npz", "PK\x03\x04 garbage");
  CHECK_THROWS_AS(read_npz(dir + "/bad.npz"), Error);
  CHECK_THROWS_WITH(read_npy(dir + "/missing.npy"), Catch::Contains("missing.npy"));
}
