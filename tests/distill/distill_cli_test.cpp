// `mlopt distill` end to end on the digits data (tests/data/digits.csv.gz) with
// the scripted digits models of tests/data/distill/.
#include <catch2/catch.hpp>

#include <torch/script.h>

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::run_shell;
using mlopt::test::shell_quote;
using mlopt::test::test_data;

namespace {

std::vector<std::string> digits_args() {
  return {"--data", test_data("digits.csv.gz"), "--reshape", "1x8x8", "--scale", "0.0625", "--seed", "1"};
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A digits teacher trained by mlopt itself (--alpha 0, no teacher).
std::string train_teacher(const std::string& dir) {
  std::string out = dir + "/teacher.pt";
  auto r = run_mlopt(with({"distill", "--student", test_data("distill/digits_cnn.pt"), "--alpha", "0", "--epochs", "4",
                           "--lr", "0.003", "--no-latency", "-q", "-o", out},
                          digits_args()));
  REQUIRE(r.exit_code == 0);
  return out;
}

std::vector<at::Tensor> weights_of(const std::string& path) {
  auto m = torch::jit::load(path);
  std::vector<at::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p);
  for (const auto& b : m.buffers()) out.push_back(b);
  return out;
}

bool same_weights(const std::string& a, const std::string& b) {
  auto x = weights_of(a), y = weights_of(b);
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (!at::equal(x[i], y[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("distill cli: a teacher trained by mlopt, then a distilled student with a report", "[distill]") {
  auto dir = mlopt::test::temp_dir("distill-cli");
  auto teacher = train_teacher(dir);
  auto r = run_mlopt(with({"distill", "--teacher", teacher, "--student", test_data("distill/digits_student.pt"),
                           "--epochs", "6", "--lr", "0.005", "--json", "-o", dir + "/student.ptl"},
                          digits_args()));
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["teacher"]["accuracy"].get<double>() > 0.9);
  CHECK(j["student"]["accuracy"].get<double>() > 0.8);
  CHECK(j["agreement"].get<double>() > 0.8);
  CHECK(j["parameter_ratio"].get<double>() > 5);
  CHECK(j["latency_ratio"].get<double>() > 0);
  CHECK(j["format"] == "torchscript-lite");
  CHECK(j["val_samples"] == 359);
  CHECK(j["training"]["epochs"].size() == 6);
  CHECK(j["training"]["samples_per_second"].get<double>() > 0);
  // Not a TTY: one plain line per epoch on stderr.
  CHECK_THAT(r.err, Catch::Contains("epoch 6/6 loss"));
}

TEST_CASE("distill cli: --seed on one thread is reproducible and --resume continues exactly", "[distill]") {
  auto dir = mlopt::test::temp_dir("distill-resume-cli");
  auto base = with({"distill", "--student", test_data("distill/digits_cnn.pt"), "--alpha", "0", "--threads", "1",
                    "--no-latency", "-q"},
                   digits_args());
  REQUIRE(run_mlopt(with(base, {"--epochs", "2", "-o", dir + "/a.pt"})).exit_code == 0);
  REQUIRE(run_mlopt(with(base, {"--epochs", "2", "-o", dir + "/b.pt"})).exit_code == 0);
  CHECK(same_weights(dir + "/a.pt", dir + "/b.pt"));

  REQUIRE(run_mlopt(with(base, {"--epochs", "1", "--checkpoint", dir + "/ckpt", "-o", dir + "/c1.pt"})).exit_code == 0);
  auto resumed = run_mlopt(with(base, {"--epochs", "2", "--checkpoint", dir + "/ckpt", "--resume", "-o", dir + "/c2.pt"}));
  REQUIRE(resumed.exit_code == 0);
  CHECK(same_weights(dir + "/a.pt", dir + "/c2.pt"));
}

TEST_CASE("distill cli: two processes on loopback (c10d Gloo) match one process", "[distill]") {
  auto dir = mlopt::test::temp_dir("distill-ddp");
  auto teacher = train_teacher(dir);
  std::string common;
  for (const auto& a : with({"distill", "--teacher", teacher, "--student", test_data("distill/digits_student.pt"),
                             "--epochs", "8", "--lr", "0.005", "--no-latency", "--json"},
                            digits_args()))
    common += " " + shell_quote(a);
  std::string binary = shell_quote(MLOPT_BINARY);
  // One process, batch 64; two processes, batch 32 each (the same global batch).
  auto single = run_shell(binary + common + " --batch-size 64 -o " + shell_quote(dir + "/one.pt"));
  REQUIRE(single.exit_code == 0);
  int port = 29600 + (getpid() % 2000);
  std::string env = "MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " WORLD_SIZE=2";
  auto both = run_shell("(" + env + " RANK=1 LOCAL_RANK=1 " + binary + common + " --batch-size 32 -o " +
                        shell_quote(dir + "/rank1.pt") + " > " + shell_quote(dir + "/rank1.out") + " 2>&1 & " + env +
                        " RANK=0 LOCAL_RANK=0 " + binary + common + " --batch-size 32 -o " +
                        shell_quote(dir + "/two.pt") + "; rc=$?; wait $! || rc=1; exit $rc)");
  INFO(both.err);
  REQUIRE(both.exit_code == 0);
  auto one = nlohmann::json::parse(single.out), two = nlohmann::json::parse(both.out);
  CHECK(two["world_size"] == 2);
  // Each rank trained on its own half: 1438 training samples -> 719 per rank and epoch.
  CHECK(two["training"]["epochs"][0]["train_accuracy"].get<double>() > 0);
  CHECK(two["training"]["samples_per_second"].get<double>() > 0);
  double a = one["student"]["accuracy"], b = two["student"]["accuracy"];
  CHECK(std::abs(a - b) <= 0.01 + 1e-9);
  CHECK_THAT(both.err, Catch::Contains("data parallel: 2 processes, 719 training samples each"));
  // Only rank 0 writes the model.
  std::ifstream rank1_model(dir + "/rank1.pt");
  CHECK_FALSE(rank1_model.good());
}

TEST_CASE("distill cli: bad input is a one-line error before training", "[distill]") {
  auto dir = mlopt::test::temp_dir("distill-errors");
  SECTION("output shapes disagree") {
    auto r = run_mlopt(with({"distill", "--teacher", test_data("distill/digits_cnn.pt"), "--student",
                             test_data("distill/digits_student5.pt"), "-o", dir + "/s.pt"},
                            digits_args()));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::StartsWith("mlopt: error: the teacher's output [2, 10] and the student's output [2, 5]"));
    CHECK_THAT(r.err, !Catch::Contains("epoch"));
  }
  SECTION("labels out of range") {
    std::string csv = dir + "/bad.csv";
    std::ofstream f(csv);
    for (int row = 0; row < 20; ++row) {
      for (int c = 0; c < 64; ++c) f << (row + c) % 17 << ",";
      f << (row == 7 ? 12 : row % 10) << "\n";
    }
    f.close();
    auto r = run_mlopt({"distill", "--teacher", test_data("distill/digits_cnn.pt"), "--student",
                        test_data("distill/digits_student.pt"), "--data", csv, "--reshape", "1x8x8", "-o",
                        dir + "/s.pt"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("label 12 is out of range: the student has 10 output classes"));
  }
  SECTION("empty data set") {
    std::string csv = dir + "/empty.csv";
    std::ofstream(csv) << "";
    auto r = run_mlopt({"distill", "--student", test_data("distill/digits_student.pt"), "--alpha", "0", "--data", csv,
                        "-o", dir + "/s.pt"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::StartsWith("mlopt: error:"));
  }
  SECTION("no teacher with alpha > 0") {
    auto r = run_mlopt(with({"distill", "--student", test_data("distill/digits_student.pt"), "-o", dir + "/s.pt"},
                            digits_args()));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--teacher is required unless --alpha 0"));
  }
}
