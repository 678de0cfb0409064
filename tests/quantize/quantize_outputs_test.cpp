// quantize on a model with two outputs (tests/data/quantize_two_heads*.pt, made by
// tests/fixtures/make_two_output_fixtures.py): a layer's "output SQNR alone" is
// measured on the output it feeds, and .onnx outputs keep the model's output names.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/quantize/quantize.h"
#include "support/quantize_report.h"
#include "support/test_support.h"

using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::test_data;

namespace {

mlopt::QuantizeOptions two_heads(const std::string& model, const std::string& mode, const std::string& out) {
  mlopt::QuantizeOptions o;
  o.model.path = model;
  o.mode = mode;
  if (model.size() < 5 || model.substr(model.size() - 5) != ".onnx") o.inputs = {"x:batch=4x16"};
  o.no_latency = true;
  o.output = out;
  return o;
}


std::vector<std::string> output_names(const std::string& onnx_path) {
  return mlopt::onnx_eval::Evaluator::load(onnx_path).output_names();
}

// The float .onnx of the tuple-returning fixture, its outputs named tags, logits.
std::string named_onnx(const std::string& dir) {
  auto path = dir + "/two_heads.onnx";
  auto r = run_mlopt({"export-onnx", test_data("quantize_two_heads.pt"), "--input", "x:batch=4x16", "--output-names",
                      "tags", "--output-names", "logits", "-o", path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return path;
}

// A real SQNR of int8 noise: neither "no noise at all" (200 dB) nor nonsense.
void require_honest_sqnr(const mlopt::QuantizedLayer& l) {
  INFO(l.name << ": " << l.output_sqnr_db << " dB on '" << l.output_sqnr_on << "'");
  REQUIRE(std::isfinite(l.output_sqnr_db));
  REQUIRE(l.output_sqnr_db > 20.0);
  REQUIRE(l.output_sqnr_db < 120.0);
}

}  // namespace

TEST_CASE("quantize: a head feeding only the second output gets its SQNR alone on that output (.pt)", "[quantize]") {
  auto dir = temp_dir("quantize_two_heads");
  for (const char* mode : {"dynamic", "static"}) {
    DYNAMIC_SECTION(mode) {
      auto r = mlopt::quantize(two_heads(test_data("quantize_two_heads.pt"), mode, dir + "/q.pt"), {});
      const auto& logits = mlopt::test::layer_named(r, "logits");
      require_honest_sqnr(logits);
      CHECK(logits.output_sqnr_on == "output 2");
      const auto& tags = mlopt::test::layer_named(r, "tags");
      require_honest_sqnr(tags);
      CHECK(tags.output_sqnr_on == "output 1");
      require_honest_sqnr(mlopt::test::layer_named(r, "trunk"));  // feeds both: the worse of the two
      auto text = r.to_text();
      CHECK(text.find("200.0 dB") == std::string::npos);
      CHECK(text.find("(on output 2)") != std::string::npos);
      CHECK(r.to_json()["layers"][2]["output_sqnr_alone_on"] == "output 2");
      REQUIRE(r.output_sqnr_by_output.size() == 2);
      CHECK(r.output_sqnr_by_output[1].first == "output 2");
    }
  }
}

TEST_CASE("quantize: a head feeding only the second output gets its SQNR alone on that output (.onnx)",
          "[quantize]") {
  auto dir = temp_dir("quantize_two_heads_onnx");
  auto model = named_onnx(dir);
  for (const char* mode : {"dynamic", "static"}) {
    DYNAMIC_SECTION(mode) {
      auto r = mlopt::quantize(two_heads(model, mode, dir + "/q.onnx"), {});
      REQUIRE(r.layers.size() == 3);  // Gemm nodes in model order: trunk, tags, logits
      require_honest_sqnr(r.layers[0]);
      require_honest_sqnr(r.layers[1]);
      CHECK(r.layers[1].output_sqnr_on == "tags");
      require_honest_sqnr(r.layers[2]);
      CHECK(r.layers[2].output_sqnr_on == "logits");
      CHECK(r.to_text().find("(on logits)") != std::string::npos);
      // The whole model: each output's SQNR beside the first's.
      REQUIRE(r.output_sqnr_by_output.size() == 2);
      CHECK(r.output_sqnr_by_output[0].first == "tags");
      CHECK(r.output_sqnr_by_output[1].first == "logits");
      CHECK(r.output_sqnr_by_output[0].second == Approx(r.output_sqnr_db));
      CHECK(std::isfinite(r.output_sqnr_by_output[1].second));
      CHECK(r.output_sqnr_by_output[1].second > 20.0);
      CHECK(r.to_text().find("per output: tags ") != std::string::npos);
      CHECK(r.to_json()["output_sqnr_db_by_output"][1]["output"] == "logits");
    }
  }
}

TEST_CASE("quantize: a single-output model's layers name no output", "[quantize]") {
  auto dir = temp_dir("quantize_one_output");
  auto o = two_heads(test_data("quantize_digits_mlp.pt"), "dynamic", dir + "/q.pt");
  o.inputs = {"x:batch=4x1x8x8"};
  auto r = mlopt::quantize(o, {});
  for (const auto& l : r.layers) {
    if (!l.quantized) continue;
    require_honest_sqnr(l);
    CHECK(l.output_sqnr_on.empty());
  }
  CHECK(r.to_text().find("(on ") == std::string::npos);
  CHECK(r.output_sqnr_by_output.empty());
  CHECK(r.to_text().find("per output") == std::string::npos);
}

TEST_CASE("quantize: .onnx outputs keep the model's output names", "[quantize]") {
  auto dir = temp_dir("quantize_output_names");
  const std::vector<std::string> named{"tags", "logits"};
  for (const char* mode : {"dynamic", "static", "fp16"}) {
    DYNAMIC_SECTION(mode) {
      // A .onnx model: the names it was exported with.
      auto onnx_out = dir + "/from_onnx." + mode + ".onnx";
      mlopt::quantize(two_heads(named_onnx(dir), mode, onnx_out), {});
      CHECK(output_names(onnx_out) == named);
      // A .pt model returning a dict: its keys, as export-onnx names them.
      auto dict_out = dir + "/from_dict." + mode + ".onnx";
      mlopt::quantize(two_heads(test_data("quantize_two_heads_dict.pt"), mode, dict_out), {});
      CHECK(output_names(dict_out) == named);
      // A .pt model returning a tuple: --output-names, as for export-onnx.
      auto tuple_out = dir + "/from_tuple." + mode + ".onnx";
      auto o = two_heads(test_data("quantize_two_heads.pt"), mode, tuple_out);
      o.output_names = named;
      mlopt::quantize(o, {});
      CHECK(output_names(tuple_out) == named);
    }
  }
}

TEST_CASE("quantize: --output-names through the CLI, and where it does not apply", "[quantize]") {
  auto dir = temp_dir("quantize_output_names_cli");
  auto out = dir + "/q.onnx";
  auto r = run_mlopt({"quantize", test_data("quantize_two_heads.pt"), "--input", "x:batch=4x16", "--output-names",
                      "tags", "--output-names", "logits", "-o", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(output_names(out) == std::vector<std::string>{"tags", "logits"});

  auto pt = run_mlopt({"quantize", test_data("quantize_two_heads.pt"), "--input", "x:batch=4x16", "--output-names",
                       "tags", "-o", dir + "/q.pt"});
  CHECK(pt.exit_code == 2);
  CHECK(pt.err.find("--output-names") != std::string::npos);
  auto onnx = run_mlopt({"quantize", out, "--output-names", "a", "--output-names", "b", "-o", dir + "/q2.onnx"});
  CHECK(onnx.exit_code == 2);
  CHECK(onnx.err.find("keep their own names") != std::string::npos);
  auto count = run_mlopt({"quantize", test_data("quantize_two_heads.pt"), "--input", "x:batch=4x16", "--output-names",
                          "tags", "-o", dir + "/q3.onnx"});
  CHECK(count.exit_code != 0);
  CHECK(count.err.find("--output-names gives 1 names, but the model has 2 outputs") != std::string::npos);
  CHECK(!std::filesystem::exists(dir + "/q3.onnx"));
}
