#include "mlopt/pipeline/step_registry.h"

#include "mlopt/pipeline/did_you_mean.h"

namespace mlopt::pipeline {

StepTypeRegistry& step_types() { return StepTypeRegistry::instance(); }
const StepType* find_step_type(const std::string& name) { return step_types().find(name); }
std::vector<std::string> step_type_names() { return step_types().names(); }

StepRegistrar::StepRegistrar(StepType type) {
  std::string name = type.name;
  step_types().add(name, std::move(type));
}

std::vector<std::string> StepType::model_keys() const {
  std::vector<std::string> models;
  if (!primary_model_key.empty()) models.push_back(primary_model_key);
  for (const auto& key : keys())
    if (key.kind == "model" && key.name != primary_model_key) models.push_back(key.name);
  for (const auto& key : model_option_keys)
    if (key != primary_model_key) models.push_back(key);
  return models;
}

const std::vector<std::string>& reserved_step_keys() {
  static const std::vector<std::string> keys = {"name", "type", "from", "save", "artifact"};
  return keys;
}

void check_unknown_keys(const YAML::Node& node, const YamlSource& source, const std::string& context,
                        const std::vector<std::string>& known) {
  std::vector<std::string> all = known;
  all.insert(all.end(), reserved_step_keys().begin(), reserved_step_keys().end());
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (std::find(all.begin(), all.end(), key) != all.end()) continue;
    fail_at(source, entry.first, context + ": unknown key '" + key + "'" + did_you_mean(key, all));
  }
}

}  // namespace mlopt::pipeline
