#include <catch2/catch.hpp>
#include <torch/script.h>

#include <zlib.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dataset.h"
#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {
std::string write_text(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  write_file_atomically(path, text);
  return path;
}
}  // namespace

TEST_CASE("dataset: the digits csv.gz loads as 1797 labelled 8x8 images with a fixed split", "[dataset]") {
  DataOptions o;
  o.path = test::test_data("digits.csv.gz");
  o.reshape = "1x8x8";
  o.scale = 1.0 / 16;
  Dataset d = load_dataset(o);
  REQUIRE(d.size() == 1797);
  CHECK(d.x.sizes() == at::IntArrayRef({1797, 1, 8, 8}));
  CHECK(d.x.scalar_type() == at::kFloat);
  REQUIRE(d.has_labels());
  CHECK(d.num_classes() == 10);
  // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
  CHECK(d.x[0][0][0][2].item<float>() == Approx(5.0 / 16));
  CHECK(d.x[0][0][0][3].item<float>() == Approx(13.0 / 16));
  CHECK(d.y[0].item<int64_t>() == 0);
  CHECK(d.y[1].item<int64_t>() == 1);
  CHECK(d.x.max().item<float>() == Approx(1.0));
  CHECK(d.x.min().item<float>() == 0.0f);
  // 20% held out, disjoint, covering everything.
  CHECK(d.x_val.size(0) == 359);
  CHECK(d.x_train.size(0) == 1797 - 359);
  CHECK(d.y_val.size(0) == 359);
  CHECK(d.y_train.size(0) == 1797 - 359);
  CHECK(torch::bincount(d.y).sum().item<int64_t>() == 1797);
  // The same seed gives the same split; another seed another one.
  Dataset again = load_dataset(o);
  CHECK(torch::equal(again.x_val, d.x_val));
  o.split_seed = 7;
  Dataset other = load_dataset(o);
  CHECK_FALSE(torch::equal(other.x_val, d.x_val));
  CHECK(other.x_val.size(0) == 359);
}

TEST_CASE("dataset: csv with a header row, a chosen label column and no labels", "[dataset]") {
  std::string dir = test::temp_dir("dataset-csv");
  std::string path = write_text(dir, "h.csv", "label,a,b\n1,0.5,2\n0,1.5,-3\n\n2,2.5,4e1\n");
  DataOptions o;
  o.path = path;
  o.label_column = 0;
  o.val_split = 0;
  Dataset d = load_dataset(o);
  REQUIRE(d.size() == 3);
  CHECK(torch::allclose(d.x, torch::tensor({0.5f, 2.f, 1.5f, -3.f, 2.5f, 40.f}).reshape({3, 2})));
  CHECK(torch::equal(d.y, torch::tensor({1, 0, 2}, at::kLong)));
  CHECK(d.x_train.size(0) == 3);
  CHECK(d.x_val.size(0) == 0);

  o.no_labels = true;
  Dataset u = load_dataset(o);
  CHECK_FALSE(u.has_labels());
  CHECK(u.x.size(1) == 3);
  CHECK(u.num_classes() == 0);
}

TEST_CASE("dataset: npz with x and y, and x only", "[dataset]") {
  std::string dir = test::temp_dir("dataset-npz");
  auto x = torch::randn({10, 3, 4});
  auto y = torch::arange(10, at::kInt) % 3;
  save_tensors(dir + "/d.npz", {{"x", x}, {"y", y}});
  DataOptions o;
  o.path = dir + "/d.npz";
  o.val_split = 0.3;
  Dataset d = load_dataset(o);
  CHECK(torch::equal(d.x, x));
  CHECK(d.y.scalar_type() == at::kLong);
  CHECK(d.num_classes() == 3);
  CHECK(d.x_val.size(0) == 3);
  CHECK(d.x_train.size(0) == 7);
  // The union of the parts is the data set.
  auto joined = torch::cat({d.x_train, d.x_val}).sum();
  CHECK(joined.item<float>() == Approx(x.sum().item<float>()).margin(1e-4));

  save_tensors(dir + "/xonly.npz", {{"x", x}});
  o.path = dir + "/xonly.npz";
  o.reshape = "12";
  Dataset u = load_dataset(o);
  CHECK_FALSE(u.has_labels());
  CHECK(u.x.sizes() == at::IntArrayRef({10, 12}));
}

TEST_CASE("dataset: malformed files are errors naming file:line", "[dataset]") {
  std::string dir = test::temp_dir("dataset-bad");
  DataOptions o;
  auto error_of = [&](const std::string& path) {
    o.path = path;
    try {
      load_dataset(o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string ragged = write_text(dir, "ragged.csv", "1,2,0\n3,4,1\n5,6\n");
  CHECK_THAT(error_of(ragged), Catch::Contains("ragged.csv:3: expected 3 columns, got 2"));
  std::string text = write_text(dir, "text.csv", "a,b,c\n1,2,0\n3,x4,1\n");
  CHECK_THAT(error_of(text), Catch::Contains("text.csv:3: column 2: 'x4' is not a number"));
  std::string empty_field = write_text(dir, "empty.csv", "1,2,0\n1,,0\n");
  CHECK_THAT(error_of(empty_field), Catch::Contains("empty.csv:2: column 2"));
  std::string bad_label = write_text(dir, "label.csv", "1,2,0\n1,2,0.5\n");
  CHECK_THAT(error_of(bad_label), Catch::Contains("label.csv:2: label 0.5"));
  std::string header_only = write_text(dir, "header.csv", "a,b\n");
  CHECK_THAT(error_of(header_only), Catch::Contains("no data rows"));
  std::string not_gzip = write_text(dir, "broken.csv.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  CHECK_THAT(error_of(not_gzip), Catch::Contains("broken.csv.gz"));
  CHECK_THAT(error_of(dir + "/missing.csv"), Catch::Contains("no such file"));
  CHECK_THAT(error_of(dir + "/data.txt"), Catch::Contains("expected a data set ending in .npz, .csv or .csv.gz"));

  std::string good = write_text(dir, "good.csv", "1,2,0\n3,4,1\n");
  o.reshape = "3x1";
  CHECK_THAT(error_of(good), Catch::Contains("--reshape 3x1 holds 3 values, but each sample has 2"));
  o.reshape = "";
  o.label_column = 5;
  CHECK_THAT(error_of(good), Catch::Contains("--label-column 5"));
  o.label_column = -1;
  o.val_split = 1.5;
  CHECK_THAT(error_of(good), Catch::Contains("--val-split"));
  o.val_split = 0.2;

  save_tensors(dir + "/noy.npz", {{"features", torch::randn({3, 2})}});
  CHECK_THAT(error_of(dir + "/noy.npz"), Catch::Contains("no array named 'x'"));
  save_tensors(dir + "/ybad.npz", {{"x", torch::randn({3, 2})}, {"y", torch::zeros({4}, at::kLong)}});
  CHECK_THAT(error_of(dir + "/ybad.npz"), Catch::Contains("array 'y' has shape"));
}

TEST_CASE("dataset: a truncated gzip file is an error, not silently short data", "[dataset]") {
  std::string dir = test::temp_dir("dataset-gz");
  std::string bytes = read_file(test::test_data("digits.csv.gz"));
  write_file_atomically(dir + "/cut.csv.gz", bytes.substr(0, bytes.size() / 2));
  DataOptions o;
  o.path = dir + "/cut.csv.gz";
  CHECK_THROWS_AS(load_dataset(o), Error);
}
