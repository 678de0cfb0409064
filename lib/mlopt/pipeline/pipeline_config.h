#pragma once
// A pipeline file, loaded and checked (structure, types, files, references)
// before anything runs. See docs/pipeline-config.md for every key.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlopt/pipeline/env_substitution.h"
#include "mlopt/pipeline/yaml_source.h"

namespace mlopt::pipeline {

// The reserved model reference naming the pipeline's model source.
inline constexpr const char* kSourceRef = "source";

struct ModelSourceConfig {
  std::string path;  // resolved against the pipeline file's folder
  std::string class_name;
  std::vector<std::string> init;
  std::string weights;
  bool is_python() const;
};

struct DatasetConfig {
  std::string name;
  std::string path;
  YAML::Node options;  // the other keys (reshape, scale, ...), passed to steps that read the data
};

struct StepConfig {
  std::string name;
  std::string type;
  std::vector<std::string> from;  // empty: the previous model step (or the source)
  std::vector<std::string> save;  // extra formats of the model: pt, ptl, onnx
  std::string artifact;           // file stem of the artifact (default: the step name)
  YAML::Node node;
};

struct GateConfig {
  std::string artifact;  // step name (or "source")
  std::string kind;      // max_accuracy_drop | max_p50_latency_ms | max_file_size | min_speedup | metric
  std::string metric;    // kind == "metric": dotted key; max/min below
  std::optional<double> max, min;
  YAML::Node node;
};

struct PipelineConfig {
  YamlSource source;
  std::string base_dir;  // the pipeline file's folder; relative paths resolve against it
  std::string name;
  std::string description;
  uint64_t seed = 0;
  ModelSourceConfig model;
  std::vector<std::string> inputs;  // textual input specs
  std::map<std::string, DatasetConfig> datasets;
  std::vector<StepConfig> steps;
  std::vector<GateConfig> gates;
  std::string baseline;  // the model ratios are computed against (default: first model step)
  YAML::Node root;       // after env substitution and --set: the resolved config
};

// Reads the file, substitutes `${VAR}`, applies `--set key.path=value` and
// checks the structure. Step options are checked when the plan binds them.
PipelineConfig load_pipeline(const std::string& path, const std::vector<std::string>& overrides,
                             const EnvLookup& env = process_environment());

// Same, from text (tests); `file` names it in messages, `base_dir` resolves paths.
PipelineConfig parse_pipeline(const std::string& text, const std::string& file, const std::string& base_dir,
                              const std::vector<std::string>& overrides, const EnvLookup& env);

// Applies one `key.path=value` override (value parsed as YAML) to the tree. A
// list of steps is indexed by step name or position: `steps.train.epochs=1`.
void apply_override(YAML::Node& root, const std::string& assignment);

const std::vector<std::string>& top_level_keys();
const std::vector<std::string>& gate_kinds();

}  // namespace mlopt::pipeline
