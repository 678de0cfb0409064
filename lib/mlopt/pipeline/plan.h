#pragma once
// The resolved plan: steps in dependency order, each bound to its
// subcommand's options, with the files it reads and writes. Building it
// validates everything (types, unknown keys, references, cycles) before any
// step runs; --dry-run prints it.
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "mlopt/core/options.h"
#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/pipeline/step_registry.h"

namespace mlopt::pipeline {

// One execution of a step: a model step runs once; a measuring step runs once
// per model it measures (`from: [a, b]`).
struct StepRun {
  std::string target;                          // the model reference measured / transformed
  std::map<std::string, std::string> models;   // model key -> reference (step name or "source")
  std::map<std::string, std::string> paths;    // model key -> file
  BoundStep bound;
};

struct PlannedStep {
  const StepConfig* config = nullptr;
  const StepType* type = nullptr;
  std::vector<std::string> depends_on;  // step names
  std::vector<StepRun> runs;
  // Model steps: the artifact files (primary first), relative to the output folder.
  std::vector<std::string> artifacts;
  std::string name() const { return config->name; }
  bool produces_model() const { return type->produces_model(); }
};

struct Plan {
  const PipelineConfig* config = nullptr;
  std::string out_dir;
  std::vector<PlannedStep> steps;  // dependency order
  std::string baseline;            // step name or "source": the model ratios compare against

  const PlannedStep* find(const std::string& name) const;
  nlohmann::json to_json() const;
  std::string to_text() const;  // the --dry-run listing
};

// Resolves references and order, then binds every step. Errors carry file:line:column.
Plan build_plan(const PipelineConfig& config, const std::string& out_dir, const GlobalOptions& globals);

// The file a model reference names: the source, or a step's primary artifact.
std::string model_path(const Plan& plan, const std::string& reference);

}  // namespace mlopt::pipeline
