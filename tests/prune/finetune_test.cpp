#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

TEST_CASE("prune cli: digits CNN pruned by channel at 0.5 and fine-tuned keeps its accuracy", "[prune]") {
  auto out = temp_dir("prune_finetune") + "/digits_pruned.pt";
  auto r = run_mlopt({"prune", test_data("prune/digits_cnn.pt"), "--method", "channel", "--amount", "0.5", "--input",
                      "x:1x1x8x8", "--finetune", test_data("digits.csv.gz"), "--eval", test_data("digits.csv.gz"),
                      "--reshape", "1x8x8", "--scale", "0.0625", "--epochs", "6", "--lr", "0.003", "-o", out,
                      "--json", "--threads", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  double before = j["eval"]["before"].get<double>();
  double after = j["eval"]["after"].get<double>();
  CHECK(j["eval"]["metric"] == "accuracy");
  CHECK(before > 0.9);
  CHECK(after >= before - 0.02);
  CHECK(j["totals"]["params_after"].get<int64_t>() * 3 < j["totals"]["params_before"].get<int64_t>());
  CHECK(j["finetune"]["losses"].size() == 6);
}

TEST_CASE("prune cli: fine-tuning after unstructured pruning keeps pruned weights at zero", "[prune]") {
  auto out = temp_dir("prune_finetune") + "/digits_l1.pt";
  auto r = run_mlopt({"prune", test_data("prune/digits_cnn.pt"), "--method", "global-unstructured", "--amount",
                      "0.7", "--input", "x:1x1x8x8", "--finetune", test_data("digits.csv.gz"), "--reshape", "1x8x8",
                      "--scale", "0.0625", "--epochs", "2", "-o", out, "--json", "--threads", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  int64_t zeros = 0, numel = 0;
  for (const auto& l : j["layers"]) {
    if (l["kind"] == "norm") continue;  // BatchNorm rows are listed because fine-tuning changed them
    zeros += l["zeros"].get<int64_t>();
    numel += l["numel"].get<int64_t>();
  }
  CHECK(zeros == std::llround(0.7 * numel));
}
