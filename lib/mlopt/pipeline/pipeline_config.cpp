// Loading a pipeline file: YAML with positions, `${VAR}` substitution, `--set`
// overrides, then the structure checked key by key with file:line:column.
#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/pipeline/gates.h"

#include <filesystem>
#include <fmt/format.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/pipeline/did_you_mean.h"
#include "mlopt/pipeline/output_files.h"
#include "mlopt/pipeline/step_registry.h"
#include "mlopt/pipeline/yaml_guard.h"

namespace fs = std::filesystem;

namespace mlopt::pipeline {

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys = {"name", "description", "seed", "model", "inputs",
                                                "data", "steps", "gates", "baseline", "publish"};
  return keys;
}

const std::vector<std::string>& gate_kinds() {
  static const std::vector<std::string> kinds = {"max_accuracy_drop", "max_p50_latency_ms", "max_file_size",
                                                 "min_speedup", "not_slower_than_baseline", "metric"};
  return kinds;
}

bool ModelSourceConfig::is_python() const { return extension_of(path) == ".py"; }

namespace {

class ConfigReader {
 public:
  ConfigReader(PipelineConfig& config) : c_(config), src_(config.source) {}

  void read() {
    const YAML::Node& root = c_.root;
    if (!root.IsMap()) fail_at(src_, root, "a pipeline is a mapping with name, model, inputs, steps");
    check_keys(root, top_level_keys(), "the pipeline");
    c_.name = require_string(root, "name", "the pipeline");
    // The name becomes the default output folder (mlopt-out/<name>): '..'
    // or '' would make that the current folder or its parent.
    if (!is_plain_file_name(c_.name))
      fail_at(src_, root["name"], "name expects letters, digits, '-', '_' and '.' (not starting with '.'), got '" +
                                      c_.name + "'");
    if (root["description"]) c_.description = string_of(root["description"], "description");
    if (root["seed"]) c_.seed = scalar<uint64_t>(root["seed"], "seed", "a non-negative integer");
    read_model(require(root, "model", "the pipeline"));
    if (root["inputs"]) read_inputs(root["inputs"]);
    if (root["data"]) read_data(root["data"]);
    read_steps(require(root, "steps", "the pipeline"));
    if (root["gates"]) read_gates(root["gates"]);
    if (root["baseline"]) c_.baseline = string_of(root["baseline"], "baseline");
  }

 private:
  YAML::Node require(const YAML::Node& map, const std::string& key, const std::string& what) {
    YAML::Node node = map[key];
    if (!node) fail_at(src_, map, what + " needs the key '" + key + "'");
    return node;
  }
  std::string string_of(const YAML::Node& node, const std::string& key) {
    if (!node.IsScalar()) fail_at(src_, node, key + " expects a string, got " + describe_node(node));
    return node.Scalar();
  }
  std::string require_string(const YAML::Node& map, const std::string& key, const std::string& what) {
    return string_of(require(map, key, what), key);
  }
  template <typename T>
  T scalar(const YAML::Node& node, const std::string& key, const std::string& expected) {
    try {
      if (node.IsScalar()) return node.as<T>();
    } catch (const YAML::Exception&) {
    }
    fail_at(src_, node, key + " expects " + expected + ", got " + describe_node(node));
  }
  std::vector<std::string> strings(const YAML::Node& node, const std::string& key) {
    std::vector<std::string> out;
    if (node.IsScalar()) return {node.Scalar()};
    if (!node.IsSequence()) fail_at(src_, node, key + " expects a list of strings, got " + describe_node(node));
    for (const auto& item : node) out.push_back(string_of(item, key));
    return out;
  }
  void check_keys(const YAML::Node& map, const std::vector<std::string>& known, const std::string& what) {
    for (const auto& entry : map) {
      const std::string key = entry.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end())
        fail_at(src_, entry.first, what + ": unknown key '" + key + "'" + did_you_mean(key, known));
    }
  }
  std::string existing_file(const YAML::Node& node, const std::string& key) {
    std::string path = string_of(node, key);
    fs::path p(path);
    if (p.is_relative()) p = fs::path(c_.base_dir) / p;
    std::string resolved = p.lexically_normal().string();
    if (!fs::is_regular_file(resolved))
      fail_at(src_, node, key + ": no such file '" + path + "' (resolved to " + resolved + ")");
    return resolved;
  }

  void read_model(const YAML::Node& node) {
    if (node.IsScalar()) {
      c_.model.path = existing_file(node, "model");
    } else {
      if (!node.IsMap()) fail_at(src_, node, "model expects a path or a mapping with path, class, init, weights");
      check_keys(node, {"path", "class", "init", "weights"}, "model");
      c_.model.path = existing_file(require(node, "path", "model"), "model.path");
      if (node["class"]) c_.model.class_name = string_of(node["class"], "model.class");
      if (node["init"]) c_.model.init = init_args(node["init"]);
      if (node["weights"]) c_.model.weights = existing_file(node["weights"], "model.weights");
    }
    const std::string ext = extension_of(c_.model.path);
    if (ext != ".py" && ext != ".pt")
      fail_at(src_, node, "model: expected a .py model source or a .pt TorchScript archive, got '" + c_.model.path + "'");
    if (ext == ".py" && c_.model.class_name.empty())
      fail_at(src_, node, "model: a .py source needs 'class' (the nn.Module to build)");
  }
  // init: either a list of "key=value" or a mapping key: value.
  std::vector<std::string> init_args(const YAML::Node& node) {
    if (!node.IsMap()) return strings(node, "model.init");
    std::vector<std::string> args;
    for (const auto& entry : node) {
      if (!entry.second.IsScalar())
        fail_at(src_, entry.second, "model.init." + entry.first.Scalar() + " expects a scalar");
      args.push_back(entry.first.Scalar() + "=" + entry.second.Scalar());
    }
    return args;
  }

  // inputs: a list of specs, each "x:batch=1x1x8x8:float32" or a mapping
  // {name, shape, dtype, low, high}; shape is "1x8x8" or a list [batch=1, 8, 8].
  void read_inputs(const YAML::Node& node) {
    if (!node.IsSequence()) fail_at(src_, node, "inputs expects a list of input specs");
    for (const auto& item : node) {
      std::string text;
      if (item.IsScalar()) {
        text = item.Scalar();
      } else if (item.IsMap()) {
        check_keys(item, {"name", "shape", "dtype", "low", "high"}, "inputs");
        text = require_string(item, "name", "an input") + ":" + shape_text(require(item, "shape", "an input"));
        if (item["dtype"]) text += ":" + string_of(item["dtype"], "dtype");
        if (item["low"] || item["high"]) {
          if (!item["dtype"]) text += ":float32";
          text += ":" + (item["low"] ? string_of(item["low"], "low") : "") + ".." +
                  (item["high"] ? string_of(item["high"], "high") : "");
        }
      } else {
        fail_at(src_, item, "an input is a spec string or a mapping with name, shape, dtype");
      }
      try {
        parse_input_spec(text);
      } catch (const Error& e) {
        fail_at(src_, item, std::string("inputs: ") + e.what());
      }
      c_.inputs.push_back(text);
    }
  }
  std::string shape_text(const YAML::Node& node) {
    if (node.IsScalar()) return node.Scalar();
    if (!node.IsSequence()) fail_at(src_, node, "shape expects '1x3x8x8' or a list of dims");
    std::string text;
    for (const auto& dim : node) text += (text.empty() ? "" : "x") + string_of(dim, "shape");
    return text;
  }

  // data: name -> path or {path, other keys passed to the steps that read it}.
  void read_data(const YAML::Node& node) {
    if (!node.IsMap()) fail_at(src_, node, "data expects a mapping of data set names to files");
    for (const auto& entry : node) {
      DatasetConfig set;
      set.name = entry.first.Scalar();
      if (entry.second.IsScalar()) {
        set.path = existing_file(entry.second, "data." + set.name);
        set.options = YAML::Node(YAML::NodeType::Map);
      } else if (entry.second.IsMap()) {
        set.path = existing_file(require(entry.second, "path", "data." + set.name), "data." + set.name + ".path");
        set.options = YAML::Node(YAML::NodeType::Map);
        for (const auto& option : entry.second)
          // A clone, not the node: assigning a node of the document merges the whole document's
          // node memory into set.options, which made N data entries cost O(N^2) time and memory.
          if (option.first.Scalar() != "path") set.options[option.first.Scalar()] = YAML::Clone(option.second);
      } else {
        fail_at(src_, entry.second, "data." + set.name + " expects a path or a mapping with path");
      }
      c_.datasets[set.name] = set;
    }
  }

  void read_steps(const YAML::Node& node) {
    if (!node.IsSequence() || node.size() == 0) fail_at(src_, node, "steps expects a non-empty list of steps");
    for (const auto& item : node) {
      if (!item.IsMap()) fail_at(src_, item, "a step is a mapping with name and type");
      StepConfig step;
      step.node = static_cast<const YAML::Node&>(item);
      step.type = require_string(item, "type", "a step");
      step.name = item["name"] ? string_of(item["name"], "name") : step.type;
      const std::string context = "step '" + step.name + "'";
      if (!find_step_type(step.type))
        fail_at(src_, item["type"], context + ": unknown step type '" + step.type + "'" +
                                        did_you_mean(step.type, step_type_names()));
      if (step.name == kSourceRef) fail_at(src_, item, context + ": 'source' names the model source; pick another name");
      for (const auto& other : c_.steps)
        if (other.name == step.name)
          fail_at(src_, item, context + ": two steps are named '" + step.name + "' (add name: to one of them)");
      if (item["from"]) step.from = strings(item["from"], context + ": from");
      if (item["save"]) {
        step.save = strings(item["save"], context + ": save");
        for (const auto& format : step.save)
          if (format != "pt" && format != "ptl" && format != "onnx")
            fail_at(src_, item["save"], context + ": save expects pt, ptl or onnx, got '" + format + "'" +
                                            did_you_mean(format, {"pt", "ptl", "onnx"}));
      }
      step.artifact = item["artifact"] ? string_of(item["artifact"], "artifact") : step.name;
      // Artifacts are files inside --out: a path would write elsewhere.
      if (find_step_type(step.type)->produces_model() && !is_plain_file_name(step.artifact))
        fail_at(src_, item["artifact"] ? item["artifact"] : item["name"] ? item["name"] : item,
                context + ": " + (item["artifact"] ? "artifact" : "the step name") +
                    " names a file inside the output folder: letters, digits, '-', '_' and '.' (not starting with "
                    "'.'), got '" + step.artifact + "'");
      c_.steps.push_back(step);
    }
  }

  void read_gates(const YAML::Node& node) {
    if (!node.IsSequence()) fail_at(src_, node, "gates expects a list");
    for (const auto& item : node) {
      if (!item.IsMap()) fail_at(src_, item, "a gate is a mapping: {artifact: STEP, max_p50_latency_ms: 5}");
      std::vector<std::string> known = gate_kinds();
      known.insert(known.end(), {"artifact", "max", "min"});
      check_keys(item, known, "gate");
      GateConfig gate;
      gate.node = static_cast<const YAML::Node&>(item);
      gate.artifact = require_string(item, "artifact", "a gate");
      for (const auto& kind : gate_kinds()) {
        if (!item[kind]) continue;
        if (!gate.kind.empty()) fail_at(src_, item, "a gate checks one figure; split '" + gate.kind + "' and '" + kind + "'");
        gate.kind = kind;
      }
      if (gate.kind.empty()) fail_at(src_, item, "a gate needs one of " + fmt::format("{}", fmt::join(gate_kinds(), ", ")));
      if (gate.kind == "metric") {
        gate.metric = string_of(item["metric"], "metric");
        if (item["max"]) gate.max = scalar<double>(item["max"], "max", "a number");
        if (item["min"]) gate.min = scalar<double>(item["min"], "min", "a number");
        if (!gate.max && !gate.min) fail_at(src_, item, "a metric gate needs max or min");
      } else {
        if (item["max"] || item["min"]) fail_at(src_, item, "max/min go with 'metric'; write " + gate.kind + ": LIMIT");
        if (gate.kind == "not_slower_than_baseline") {
          // Opt-in: fail when an optimized artifact is slower than the baseline by more than the 5%
          // that separately profiled figures differ by on a quiet machine (report_rows.cpp flags the same).
          if (!scalar<bool>(item[gate.kind], gate.kind, "true")) fail_at(src_, item[gate.kind], "not_slower_than_baseline expects true (omit the gate to allow it)");
          gate.min = kSlowerThanBaseline;
          c_.gates.push_back(gate);
          continue;
        }
        double limit = gate.kind == "max_file_size" ? size_of(item[gate.kind]) : scalar<double>(item[gate.kind], gate.kind, "a number");
        if (gate.kind.rfind("min_", 0) == 0) gate.min = limit;
        else gate.max = limit;
      }
      c_.gates.push_back(gate);
    }
  }
  // Bytes, or a number with a unit: 200KB, 1.5MB (powers of 1000), 64KiB.
  double size_of(const YAML::Node& node) {
    const std::string text = string_of(node, "max_file_size");
    size_t end = 0;
    double value = 0;
    try {
      value = std::stod(text, &end);
    } catch (const std::exception&) {
      fail_at(src_, node, "max_file_size expects bytes or a size like 200KB, got '" + text + "'");
    }
    std::string unit = text.substr(end);
    unit.erase(0, unit.find_first_not_of(' '));
    static const std::map<std::string, double> units = {{"", 1},      {"B", 1},          {"KB", 1e3},
                                                        {"MB", 1e6},  {"GB", 1e9},       {"KiB", 1024},
                                                        {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
    auto it = units.find(unit);
    if (it == units.end()) fail_at(src_, node, "max_file_size: unknown unit '" + unit + "' (B, KB, MB, GB, KiB, MiB, GiB)");
    return value * it->second;
  }

  PipelineConfig& c_;
  const YamlSource& src_;
};

YAML::Node load_yaml(const std::string& text, const std::string& file) {
  check_yaml_text(text, file);
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error(fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace

PipelineConfig parse_pipeline(const std::string& text, const std::string& file, const std::string& base_dir,
                              const std::vector<std::string>& overrides, const EnvLookup& env) {
  PipelineConfig config;
  config.source.file = file;
  config.base_dir = base_dir;
  config.root = load_yaml(text, file);
  if (!config.root || config.root.IsNull()) throw Error(file + ": the pipeline file is empty");
  substitute_env_in_tree(config.root, config.source, env);
  for (const auto& assignment : overrides) apply_override(config.root, assignment);
  ConfigReader(config).read();
  return config;
}

PipelineConfig load_pipeline(const std::string& path, const std::vector<std::string>& overrides, const EnvLookup& env) {
  if (!fs::is_regular_file(path)) fail("no such pipeline file '{}'", path);
  std::string base = fs::path(path).parent_path().string();
  return parse_pipeline(read_file(path), path, base.empty() ? "." : base, overrides, env);
}

}  // namespace mlopt::pipeline
