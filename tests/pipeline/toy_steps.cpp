#include "pipeline/toy_steps.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/pipeline/step_registry.h"

namespace mlopt::test::toy {

int& transform_runs() {
  static int runs = 0;
  return runs;
}

std::string write(const std::string& dir, const std::string& name, const std::string& content) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// toy-transform: output = input + one line "factor=<n> mode=<m> data=<bytes of data> seed=<seed>".
struct TransformOptions {
  std::string model, output, data, mode = "plain";
  int64_t factor = 1;
  double scale = 1.0;
  bool upper = false;
  std::vector<std::string> input, tags;
  template <class V>
  void visit(V& v) {
    v.positional("model", model, "model");
    v.option("factor", factor, "factor");
    v.option("scale", scale, "scale");
    v.option("data", data, "data file");
    v.option("input", input, "input specs");
    v.option("tags", tags, "tags");
    v.flag("upper", upper, "upper");
    v.choice("mode", mode, {"plain", "fancy"}, "mode");
    v.output("output", output, "output");
  }
};
struct TransformResult {
  int64_t bytes = 0;
  nlohmann::json to_json() const { return {{"bytes", bytes}}; }
};
TransformResult toy_transform(const TransformOptions& o, const GlobalOptions& g) {
  ++transform_runs();
  std::string content = read_file(o.model);
  content += "factor=" + std::to_string(o.factor) + " mode=" + o.mode + " scale=" + std::to_string(o.scale) +
             " seed=" + std::to_string(g.seed) + " inputs=" + std::to_string(o.input.size());
  if (!o.data.empty()) content += " data=" + std::to_string(read_file(o.data).size());
  content += "\n";
  write_file_atomically(o.output, content);
  return {static_cast<int64_t>(content.size())};
}

// toy-measure: p50 latency = size / 100 ms; accuracy = 1 - 0.01 * lines.
struct MeasureOptions {
  std::string model;
  bool fail = false;
  template <class V>
  void visit(V& v) {
    v.positional("model", model, "model");
    v.flag("fail", fail, "fail the check (exit 3)");
  }
};
struct MeasureResult {
  double p50 = 0, accuracy = 0;
  nlohmann::json to_json() const {
    return {{"latency_ms", {{"p50", p50}, {"p90", p50 * 1.2}, {"min", p50 * 0.9}, {"max", p50 * 1.5}}},
            {"accuracy", accuracy}};
  }
};
MeasureResult toy_measure(const MeasureOptions& o, const GlobalOptions&) {
  if (o.fail) throw Error("outputs differ by 0.5 > atol 0.01", kExitCheckFailed);
  std::string content = read_file(o.model);
  MeasureResult r;
  r.p50 = content.size() / 100.0;
  r.accuracy = 1.0 - 0.01 * std::count(content.begin(), content.end(), '\n');
  return r;
}

namespace {
pipeline::StepType measure_type() {
  auto type = pipeline::subcommand_step("toy-measure", "measures a toy model", "", &toy_measure);
  type.metrics = [](const nlohmann::json& result) {
    if (result.contains("error")) return nlohmann::json::object();
    return nlohmann::json{{"latency_ms", result["latency_ms"]}, {"accuracy", result["accuracy"]}};
  };
  type.failure = [](const nlohmann::json& result) -> std::string {
    return result.value("passed", true) ? "" : result.value("error", "failed");
  };
  return type;
}
}  // namespace

MLOPT_REGISTER_STEP(pipeline::subcommand_step("toy-transform", "transforms a toy model", ".txt", &toy_transform));
MLOPT_REGISTER_STEP(measure_type());

}  // namespace mlopt::test::toy
