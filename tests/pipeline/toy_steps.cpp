#include "pipeline/toy_steps.h"

#include <filesystem>
#include <map>
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

int& measure_runs() {
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
  bool upper = false, crash = false;
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
    v.flag("crash", crash, "fail with an error (not a check)");
    v.choice("mode", mode, {"plain", "fancy"}, "mode");
    v.output("output", output, "output");
  }
};
struct TransformResult {
  int64_t bytes = 0;
  nlohmann::json to_json() const { return {{"bytes", bytes}}; }
};
// Found by the step registry: values refused before any step runs.
void check_options(const TransformOptions& o) {
  if (o.factor < 0) fail_usage("--factor {}: expected 0 or more", o.factor);
}
TransformResult toy_transform(const TransformOptions& o, const GlobalOptions& g) {
  ++transform_runs();
  if (o.crash) throw Error("the toy step broke");
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
  std::string model, trace;
  bool fail = false, peek = false;
  int noisy = 0;  // this many runs (counted by measure_runs()) report a noisy latency
  template <class V>
  void visit(V& v) {
    v.positional("model", model, "model");
    v.option("noisy", noisy, "the first N runs report a noisy latency");
    v.flag("fail", fail, "fail the check (exit 3)");
    v.flag("peek", peek, "record the status of the manifest beside the model while the run is under way");
    v.written_file("trace", trace, "write a trace file");
  }
};
struct MeasureResult {
  double p50 = 0, accuracy = 0;
  bool noisy = false;
  std::string manifest_status;
  nlohmann::json to_json() const {
    if (!manifest_status.empty()) return {{"manifest_status", manifest_status}};
    return {{"latency_ms", {{"p50", p50}, {"p90", p50 * 1.2}, {"min", p50 * 0.9}, {"max", p50 * 1.5},
                            {"cv", noisy ? 0.5 : 0.01}}},
            {"accuracy", accuracy}, {"noisy", noisy}};
  }
};
MeasureResult toy_measure(const MeasureOptions& o, const GlobalOptions&) {
  if (o.fail) throw Error("outputs differ by 0.5 > atol 0.01", kExitCheckFailed);
  std::string content = read_file(o.model);
  if (!o.trace.empty()) write_file_atomically(o.trace, "trace of " + o.model + "\n");
  MeasureResult r;
  if (o.peek) {
    const std::string manifest = std::filesystem::path(o.model).parent_path().string() + "/manifest.json";
    const std::string text = read_file(manifest);
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    r.manifest_status = parsed.is_discarded() ? "unreadable: " + text : parsed.value("status", "(none)");
    return r;
  }
  static std::map<std::string, int> runs_of;  // per model file: tests use their own folders
  ++measure_runs();
  r.noisy = ++runs_of[o.model] <= o.noisy;
  r.p50 = content.size() / 100.0;
  r.accuracy = 1.0 - 0.01 * std::count(content.begin(), content.end(), '\n');
  return r;
}

pipeline::StepType measure_type() {
  auto type = pipeline::subcommand_step("toy-measure", "measures a toy model", "", &toy_measure);
  type.metrics = [](const nlohmann::json& result) {
    if (result.contains("error") || !result.contains("latency_ms")) return nlohmann::json::object();
    return nlohmann::json{{"latency_ms", result["latency_ms"]}, {"accuracy", result["accuracy"]},
                          {"latency_noisy", result.value("noisy", false)}};
  };
  type.failure = [](const nlohmann::json& result) -> std::string {
    return result.value("passed", true) ? "" : result.value("error", "failed");
  };
  return type;
}

// toy-compare: the verify shape: model + optional reference positional; reports
// an "accuracy" for each (1 - 0.01 * lines) and passes when they have equal lengths.
struct CompareOptions {
  std::string a, b;
  double tolerance = 0;
  template <class V>
  void visit(V& v) {
    v.positional("model", a, "candidate");
    v.optional_positional("reference", b, "reference");
    v.option("tolerance", tolerance, "allowed size difference in bytes");
  }
};
struct CompareResult {
  double accuracy_a = 0, accuracy_b = 0;
  bool passed = false;
  nlohmann::json to_json() const { return {{"accuracy_a", accuracy_a}, {"accuracy_b", accuracy_b}, {"passed", passed}}; }
};
CompareResult toy_compare(const CompareOptions& o, const GlobalOptions&) {
  const std::string a = read_file(o.a), b = read_file(o.b);
  CompareResult r;
  r.accuracy_a = 1.0 - 0.01 * std::count(a.begin(), a.end(), '\n');
  r.accuracy_b = 1.0 - 0.01 * std::count(b.begin(), b.end(), '\n');
  r.passed = std::abs(static_cast<double>(a.size()) - static_cast<double>(b.size())) <= o.tolerance;
  return r;
}

// toy-train: the distill shape: student/teacher are options, one required option.
struct TrainOptions {
  std::string student, teacher, output;
  int64_t epochs = 0;
  template <class V>
  void visit(V& v) {
    v.option("student", student, "student");
    v.option("teacher", teacher, "teacher");
    v.required_option("epochs", epochs, "epochs");
    v.output("output", output, "output");
  }
};
TransformResult toy_train(const TrainOptions& o, const GlobalOptions&) {
  std::string content = read_file(o.student) + "trained " + std::to_string(o.epochs) + " epochs";
  if (!o.teacher.empty()) content += " with a teacher of " + std::to_string(read_file(o.teacher).size()) + " bytes";
  content += "\n";
  write_file_atomically(o.output, content);
  return {static_cast<int64_t>(content.size())};
}

pipeline::StepType compare_type() {
  auto type = pipeline::subcommand_step("toy-compare", "compares two toy models", "", &toy_compare);
  type.metrics = [](const nlohmann::json& r) { return nlohmann::json{{"accuracy", r["accuracy_a"]}}; };
  type.reference_metrics = [](const nlohmann::json& r) { return nlohmann::json{{"accuracy", r["accuracy_b"]}}; };
  type.failure = [](const nlohmann::json& r) -> std::string { return r.value("passed", false) ? "" : "sizes differ"; };
  return type;
}
pipeline::StepType train_type() {
  auto type = pipeline::subcommand_step("toy-train", "trains a toy model", ".txt", &toy_train);
  type.primary_model_key = "student";
  type.model_option_keys = {"student", "teacher"};
  return type;
}
MLOPT_REGISTER_STEP(compare_type());
MLOPT_REGISTER_STEP(train_type());

MLOPT_REGISTER_STEP(pipeline::subcommand_step("toy-transform", "transforms a toy model", ".txt", &toy_transform));
MLOPT_REGISTER_STEP(measure_type());

}  // namespace mlopt::test::toy
