#pragma once
// Pipeline step types: a name (`quantize`) -> an adapter that binds the step's
// YAML into the subcommand's options struct, fills in the model it reads and
// the artifact it writes, and calls the library function. The command table
// (lib/mlopt/commands/) registers one for each step of its commands; the
// runner never switches over step names.
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mlopt/core/any_options.h"
#include "mlopt/core/options.h"
#include "mlopt/core/registry.h"
#include "mlopt/core/written_paths.h"
#include "mlopt/pipeline/yaml_binder.h"
#include "mlopt/pipeline/yaml_source.h"

namespace mlopt::pipeline {

// What the pipeline hands a step besides its own YAML keys.
struct StepInputs {
  std::map<std::string, std::string> models;  // model key (a positional) -> model file
  std::string output;                         // the artifact to write; empty for a measuring step
  std::string out_dir;                        // where files named by `written_file` options go
  std::vector<std::string> input_specs;       // the pipeline's `inputs:` in textual form
  // When a model is the pipeline's Python source: its class, init args and weights.
  std::map<std::string, std::vector<std::string>> source_fields;
  GlobalOptions globals;
};

// A step bound and validated, ready to run.
struct BoundStep {
  nlohmann::json options;                // resolved options (YAML keys -> values)
  std::function<nlohmann::json()> run;   // runs the library function, returns its result JSON
  PathRoles paths;                       // the files it reads and writes (besides the artifact)
};

struct StepType {
  std::string name;
  std::string summary;
  // Extension of the artifact a step of this type writes (".pt", ".onnx"), or
  // empty for a step that measures a model (verify, profile).
  std::string artifact_extension;
  // The key that `from:` fills (default: the first positional).
  std::string primary_model_key;
  // Options (not positionals) that name models too, e.g. distill's teacher.
  std::vector<std::string> model_option_keys;
  std::function<BoundStep(const YAML::Node& node, const YamlSource& source, const std::string& context,
                          const StepInputs& inputs)>
      bind;
  std::function<std::vector<KeyCollector::Key>()> keys;
  // Measuring steps: the figures, from the result JSON, recorded on the model
  // they read under stable keys (`latency_ms.p50`, `accuracy`, ...).
  std::function<nlohmann::json(const nlohmann::json& result)> metrics;
  // ... and on the second model it read (verify's reference), when set.
  std::function<nlohmann::json(const nlohmann::json& result)> reference_metrics;
  // Checking steps: an empty string when the result passed, else why not.
  std::function<std::string(const nlohmann::json& result)> failure;

  bool produces_model() const { return !artifact_extension.empty(); }
  std::vector<std::string> model_keys() const;  // positional keys, primary first
};

using StepTypeRegistry = Registry<StepType>;
StepTypeRegistry& step_types();
const StepType* find_step_type(const std::string& name);
std::vector<std::string> step_type_names();

struct StepRegistrar {
  explicit StepRegistrar(StepType type);
};

// Keys every step may carry besides its subcommand's own.
const std::vector<std::string>& reserved_step_keys();

// Refuses keys of `node` that are neither bound, nor model keys, nor reserved,
// suggesting the closest known key.
void check_unknown_keys(const YAML::Node& node, const YamlSource& source, const std::string& context,
                        const std::vector<std::string>& known);

// A step type that binds its YAML into a fresh `make()` and runs `run` on the
// result. lib/mlopt/commands/ builds one for each step of its command table.
using OptionsFactory = std::function<AnyOptions()>;
using OptionsRunner = std::function<nlohmann::json(const AnyOptions& options, const GlobalOptions& globals)>;
StepType options_step(std::string name, std::string summary, std::string artifact_extension, OptionsFactory make,
                      OptionsRunner run);

// The same for a library function `R fn(const O&, const GlobalOptions&)`
// whose result has `to_json()` (step types that are not commands: tests).
template <typename Options, typename Result>
StepType subcommand_step(std::string name, std::string summary, std::string artifact_extension,
                         Result (*fn)(const Options&, const GlobalOptions&)) {
  return options_step(
      std::move(name), std::move(summary), std::move(artifact_extension), [] { return AnyOptions(Options{}); },
      [fn](const AnyOptions& options, const GlobalOptions& globals) -> nlohmann::json {
        return fn(options.get<Options>(), globals).to_json();
      });
}

}  // namespace mlopt::pipeline

#define MLOPT_REGISTER_STEP(...) MLOPT_STATIC_REGISTRAR(::mlopt::pipeline::StepRegistrar, __VA_ARGS__)
