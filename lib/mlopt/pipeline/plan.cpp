#include "mlopt/pipeline/plan.h"

#include <filesystem>
#include <fmt/format.h>

#include "mlopt/core/error.h"
#include "mlopt/core/written_paths.h"
#include "mlopt/pipeline/did_you_mean.h"
#include "mlopt/pipeline/output_files.h"

namespace fs = std::filesystem;

namespace mlopt::pipeline {

const PlannedStep* Plan::find(const std::string& name) const {
  for (const auto& step : steps)
    if (step.name() == name) return &step;
  return nullptr;
}

namespace {

struct Resolver {
  const PipelineConfig& config;
  std::map<std::string, const StepConfig*> by_name;

  explicit Resolver(const PipelineConfig& c) : config(c) {
    for (const auto& step : c.steps) by_name[step.name] = &step;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> n{kSourceRef};
    for (const auto& step : config.steps) n.push_back(step.name);
    return n;
  }

  // Checks that `ref` names the source or a step that writes a model.
  void check_model_ref(const std::string& ref, const YAML::Node& at, const std::string& context) const {
    if (ref == kSourceRef) return;
    auto it = by_name.find(ref);
    if (it == by_name.end())
      fail_at(config.source, at, context + ": no step named '" + ref + "'" + did_you_mean(ref, names()));
    if (!find_step_type(it->second->type)->produces_model())
      fail_at(config.source, at, context + ": step '" + ref + "' measures a model and writes none");
  }

  // The model a step reads when it names none: the nearest model step above it.
  std::string default_from(size_t index) const {
    for (size_t i = index; i-- > 0;)
      if (find_step_type(config.steps[i].type)->produces_model()) return config.steps[i].name;
    return kSourceRef;
  }
};

// Depth-first search for a cycle; returns the steps on it, first repeated at the end.
bool find_cycle(const std::string& node, const std::map<std::string, std::vector<std::string>>& edges,
                std::map<std::string, int>& state, std::vector<std::string>& path) {
  state[node] = 1;
  path.push_back(node);
  auto it = edges.find(node);
  if (it != edges.end())
    for (const auto& next : it->second) {
      if (state[next] == 1) {
        path.push_back(next);
        return true;
      }
      if (state[next] == 0 && find_cycle(next, edges, state, path)) return true;
    }
  path.pop_back();
  state[node] = 2;
  return false;
}

// Relative paths in a step resolve against the pipeline file's folder; a
// value naming a data set becomes its file and brings the set's options. The
// step's node is edited in place (a clone would lose the file positions), so
// the manifest's config shows the resolved values; doing it twice changes nothing.
YAML::Node resolve_step_node(const PipelineConfig& config, const StepConfig& step, const StepType& type) {
  YAML::Node node = step.node;
  std::set<std::string> known;
  for (const auto& key : type.keys()) known.insert(key.name);
  std::vector<std::pair<std::string, YAML::Node>> added;
  for (auto entry : node) {
    if (!entry.second.IsScalar()) continue;
    const std::string key = entry.first.Scalar();
    if (key == "name" || key == "type" || key == "from" || key == "artifact") continue;
    const std::string value = entry.second.Scalar();
    auto set = config.datasets.find(value);
    if (set != config.datasets.end()) {
      entry.second = set->second.path;
      for (const auto& option : set->second.options)
        if (known.count(option.first.Scalar()) && !step.node[option.first.Scalar()])
          added.emplace_back(option.first.Scalar(), option.second);
    } else if (!value.empty() && fs::path(value).is_relative() && value.find('/') != std::string::npos &&
               fs::exists(fs::path(config.base_dir) / value)) {
      entry.second = (fs::path(config.base_dir) / value).lexically_normal().string();
    }
  }
  for (auto& [key, value] : added) node[key] = value;
  return node;
}

std::string artifact_name(const StepConfig& step, const std::string& extension) { return step.artifact + extension; }

struct WrittenFile {
  std::string path, step;
  YAML::Node at;  // where the config names it
};

std::vector<WrittenFile> files_written(const Plan& plan) {
  std::vector<WrittenFile> written;
  for (const auto& step : plan.steps) {
    const YAML::Node& node = step.config->node;
    const YAML::Node at = node["artifact"] ? node["artifact"] : node["name"] ? node["name"] : node;
    std::vector<std::string> artifact_paths;
    for (const auto& name : step.artifacts) {
      for (const auto& reserved : reserved_output_names())
        if (name == reserved)
          fail_at(plan.config->source, at, "step '" + step.name() + "': its artifact would be named " + name +
                                               ", which the run writes itself; set another artifact: name");
      artifact_paths.push_back((fs::path(plan.out_dir) / name).string());
      written.push_back({artifact_paths.back(), step.name(), at});
    }
    for (const auto& run : step.runs)
      for (const auto& [key, path] : run.bound.paths.writes) {
        if (std::find(artifact_paths.begin(), artifact_paths.end(), path) != artifact_paths.end()) continue;
        const YAML::Node value = node[yaml_key_of(key)];
        written.push_back({path, step.name(), value ? value : at});
      }
  }
  return written;
}

// The files a run reads from outside its own output: the pipeline file, the
// model source and its weights, the data sets, and any other file a step names.
std::vector<std::string> files_read(const Plan& plan, const std::vector<WrittenFile>& written) {
  const PipelineConfig& config = *plan.config;
  std::vector<std::string> read = {config.source.file, config.model.path};
  if (!config.model.weights.empty()) read.push_back(config.model.weights);
  for (const auto& [name, set] : config.datasets) read.push_back(set.path);
  for (const auto& step : plan.steps)
    for (const auto& run : step.runs)
      for (const auto& [key, path] : run.bound.paths.reads) {
        bool produced = false;
        for (const auto& w : written) produced = produced || w.path == path;
        if (!produced) read.push_back(path);
      }
  return read;
}

// The output folder is the run's own: no two writes land on one file and no
// write lands on a file the run reads (`--out .` with a step named like the
// model would otherwise replace the model).
void check_files_written(const Plan& plan) {
  const YamlSource& src = plan.config->source;
  const std::vector<WrittenFile> written = files_written(plan);
  for (size_t i = 0; i < written.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (written[i].path == written[j].path || same_file(written[i].path, written[j].path))
        fail_at(src, written[i].at,
                "step '" + written[i].step + "' writes " + written[i].path +
                    (written[i].step == written[j].step ? " more than once (one file per model it reads)"
                                                        : ", which step '" + written[j].step + "' writes too") +
                    "; give it another name");
  std::vector<std::string> read = files_read(plan, written);
  for (const auto& w : written)
    for (const auto& r : read)
      if (same_file(w.path, r))
        fail_at(src, w.at, "step '" + w.step + "' would write " + w.path + ", which is " + r +
                               ", an input of this run; choose another --out or name");
}

}  // namespace

std::string model_path(const Plan& plan, const std::string& reference) {
  if (reference == kSourceRef) return plan.config->model.path;
  const PlannedStep* step = plan.find(reference);
  return (fs::path(plan.out_dir) / step->artifacts.front()).string();
}

Plan build_plan(const PipelineConfig& config, const std::string& out_dir, const GlobalOptions& globals) {
  Resolver resolver(config);
  const YamlSource& src = config.source;

  // 1. References: which models each step reads.
  struct Refs {
    std::vector<std::string> targets;              // from:
    std::map<std::string, std::string> extra;      // other model keys (verify's reference, ...)
  };
  std::map<std::string, Refs> refs;
  std::map<std::string, std::vector<std::string>> edges;
  for (size_t i = 0; i < config.steps.size(); ++i) {
    const StepConfig& step = config.steps[i];
    const StepType& type = *find_step_type(step.type);
    const std::string context = "step '" + step.name + "'";
    Refs r;
    r.targets = step.from.empty() ? std::vector<std::string>{resolver.default_from(i)} : step.from;
    if (type.produces_model() && r.targets.size() > 1)
      fail_at(src, step.node["from"], context + ": a " + step.type + " step reads one model; fan out with one step per model");
    for (const auto& target : r.targets) {
      if (target == step.name) fail_at(src, step.node["from"], context + ": a step cannot read its own output");
      resolver.check_model_ref(target, step.node["from"] ? step.node["from"] : step.node, context + ": from");
    }
    const auto keys = type.model_keys();
    for (size_t k = 1; k < keys.size(); ++k) {
      const YAML::Node value = step.node[keys[k]];
      if (!value) continue;
      if (!value.IsScalar()) fail_at(src, value, context + ": " + keys[k] + " expects a step name or 'source'");
      resolver.check_model_ref(value.Scalar(), value, context + ": " + keys[k]);
      r.extra[keys[k]] = value.Scalar();
    }
    for (const auto& t : r.targets)
      if (t != kSourceRef) edges[step.name].push_back(t);
    for (const auto& [key, ref] : r.extra)
      if (ref != kSourceRef) edges[step.name].push_back(ref);
    refs[step.name] = r;
  }

  // 2. Cycles, then a dependency order that keeps the file's order where it can.
  std::map<std::string, int> state;
  for (const auto& step : config.steps) {
    std::vector<std::string> path;
    if (state[step.name] == 0 && find_cycle(step.name, edges, state, path)) {
      auto start = std::find(path.begin(), path.end(), path.back());
      std::string cycle;
      for (auto it = start; it != path.end(); ++it) cycle += (cycle.empty() ? "" : " -> ") + *it;
      fail_at(src, resolver.by_name.at(path.back())->node, "steps form a cycle: " + cycle);
    }
  }
  std::vector<const StepConfig*> order;
  std::set<std::string> placed;
  while (order.size() < config.steps.size()) {
    for (const auto& step : config.steps) {
      if (placed.count(step.name)) continue;
      bool ready = true;
      for (const auto& dep : edges[step.name]) ready = ready && placed.count(dep);
      if (!ready) continue;
      order.push_back(&step);
      placed.insert(step.name);
      break;
    }
  }

  // 3. Bind every step to its options (type checks, unknown keys).
  Plan plan;
  plan.config = &config;
  plan.out_dir = out_dir;
  for (const StepConfig* step : order) {
    PlannedStep planned;
    planned.config = step;
    planned.type = find_step_type(step->type);
    planned.depends_on = edges[step->name];
    if (planned.type->produces_model()) {
      planned.artifacts.push_back(artifact_name(*step, planned.type->artifact_extension));
      for (const auto& format : step->save) {
        std::string name = artifact_name(*step, "." + format);
        if (std::find(planned.artifacts.begin(), planned.artifacts.end(), name) == planned.artifacts.end())
          planned.artifacts.push_back(name);
      }
    }
    plan.steps.push_back(std::move(planned));
  }
  for (auto& planned : plan.steps) {
    const StepConfig& step = *planned.config;
    const YAML::Node node = resolve_step_node(config, step, *planned.type);
    const Refs& r = refs[step.name];
    const auto keys = planned.type->model_keys();
    for (const auto& target : r.targets) {
      StepRun run;
      run.target = target;
      if (!keys.empty()) run.models[keys.front()] = target;
      for (const auto& [key, ref] : r.extra) run.models[key] = ref;
      StepInputs inputs;
      for (const auto& [key, ref] : run.models) run.paths[key] = inputs.models[key] = model_path(plan, ref);
      if (planned.type->produces_model()) inputs.output = (fs::path(out_dir) / planned.artifacts.front()).string();
      inputs.out_dir = out_dir;
      inputs.input_specs = config.inputs;
      if (config.model.is_python() && !keys.empty() && target == kSourceRef) {
        inputs.source_fields["class"] = {config.model.class_name};
        inputs.source_fields["init"] = config.model.init;
        if (!config.model.weights.empty()) inputs.source_fields["weights"] = {config.model.weights};
      }
      inputs.globals = globals;
      inputs.globals.seed = config.seed;
      std::string context = "step '" + step.name + "'";
      run.bound = planned.type->bind(node, src, context, inputs);
      planned.runs.push_back(std::move(run));
    }
  }

  plan.baseline = config.baseline;
  if (plan.baseline.empty()) {
    plan.baseline = kSourceRef;
    for (const auto& step : config.steps)
      if (find_step_type(step.type)->produces_model()) {
        plan.baseline = step.name;
        break;
      }
  } else {
    resolver.check_model_ref(plan.baseline, config.root["baseline"], "baseline");
  }
  // Gates name models that exist.
  for (const auto& gate : config.gates) resolver.check_model_ref(gate.artifact, gate.node["artifact"], "gate");
  check_files_written(plan);
  return plan;
}

nlohmann::json Plan::to_json() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const auto& step : steps) {
    nlohmann::json s = {{"name", step.name()}, {"type", step.type->name}, {"artifacts", step.artifacts},
                        {"depends_on", step.depends_on}};
    nlohmann::json runs_json = nlohmann::json::array();
    for (const auto& run : step.runs) runs_json.push_back({{"model", run.target}, {"options", run.bound.options}});
    s["runs"] = runs_json;
    steps_json.push_back(s);
  }
  return {{"name", config->name}, {"out", out_dir}, {"baseline", baseline}, {"steps", steps_json}};
}

std::string Plan::to_text() const {
  std::string text = fmt::format("pipeline {} -> {}\n", config->name, out_dir);
  text += fmt::format("model source: {}{}\n", config->model.path,
                      config->model.class_name.empty() ? "" : " (class " + config->model.class_name + ")");
  int index = 1;
  for (const auto& step : steps) {
    for (const auto& run : step.runs) {
      text += fmt::format("{:>2}. {} [{}] reads {}", index, step.name(), step.type->name, run.target);
      for (const auto& [key, ref] : run.models)
        if (ref != run.target) text += fmt::format(", {}: {}", key, ref);
      if (!step.artifacts.empty()) text += fmt::format(" -> {}", fmt::join(step.artifacts, ", "));
      text += "\n";
      for (const auto& [key, value] : run.bound.options.items()) {
        if (value.is_string() && value.get<std::string>().empty()) continue;
        if (value.is_array() && value.empty()) continue;
        text += fmt::format("      {}: {}\n", key, value.dump());
      }
    }
    ++index;
  }
  for (const auto& gate : config->gates) {
    std::string limit = gate.max ? fmt::format("<= {}", *gate.max) : fmt::format(">= {}", *gate.min);
    text += fmt::format("gate: {} {} {}\n", gate.artifact, gate.kind == "metric" ? gate.metric : gate.kind, limit);
  }
  return text;
}

}  // namespace mlopt::pipeline
