#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/pipeline/reports.h"
#include "mlopt/pipeline/step_cache.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt::pipeline {

json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    json object = json::object();
    for (const auto& entry : node) object[entry.first.Scalar()] = yaml_to_json(entry.second);
    return object;
  }
  if (node.IsSequence()) {
    json list = json::array();
    for (const auto& item : node) list.push_back(yaml_to_json(item));
    return list;
  }
  if (!node.IsScalar()) return nullptr;
  // A quoted scalar ("3") stays a string; a plain one is typed as YAML reads it.
  if (node.Tag() != "!") {
    int64_t i;
    double d;
    bool b;
    if (YAML::convert<int64_t>::decode(node, i)) return i;
    if (YAML::convert<double>::decode(node, d)) return d;
    if (YAML::convert<bool>::decode(node, b)) return b;
  }
  return node.Scalar();
}

void write_manifest(const ReportInputs& in) {
  const Versions versions = Versions::current();
  json steps = json::array();
  for (const auto& step : in.result.steps) {
    json s = {{"name", step.name}, {"type", step.type}, {"status", step.status}, {"models", step.models}};
    auto it = in.step_results.find(step.name);
    if (it != in.step_results.end()) s["results"] = it->second;
    if (!step.failure.empty()) s["failure"] = step.failure;
    steps.push_back(s);
  }
  json gates = json::array();
  for (const auto& gate : in.result.gates)
    gates.push_back({{"gate", gate.name}, {"figure", gate.figure}, {"passed", gate.passed}, {"inconclusive", gate.inconclusive}});
  json manifest = {{"pipeline", in.plan.config->name},
                   {"mlopt_version", versions.mlopt},
                   {"libtorch_version", versions.libtorch},
                   {"onnx_version", versions.onnx},
                   {"seed", in.plan.config->seed},
                   {"baseline", in.plan.baseline},
                   {"artifacts", in.artifacts},
                   {"steps", steps},
                   {"gates", gates},
                   {"passed", in.result.passed()},
                   {"status", in.result.status()},
                   {"config", yaml_to_json(in.plan.config->root)},
                   {"resolved_steps", in.plan.to_json()["steps"]}};
  if (!in.result.error.empty()) manifest["failure"] = {{"step", in.result.failed_step}, {"error", in.result.error}};
  write_file_atomically((fs::path(in.plan.out_dir) / "manifest.json").string(), manifest.dump(2) + "\n");
}

}  // namespace mlopt::pipeline
