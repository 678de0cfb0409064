// A step type over any options struct: binds the step's YAML into it, fills in
// the models the pipeline hands the step and the artifact it writes, checks
// the values and runs the library function (see step_registry.h).
#include <filesystem>

#include "mlopt/core/error.h"
#include "mlopt/pipeline/options_json.h"
#include "mlopt/pipeline/output_files.h"
#include "mlopt/pipeline/step_registry.h"

namespace mlopt::pipeline {

namespace {

// Sets a list field by YAML key (the pipeline's input specs, source fields).
class VectorSetter : public OptionsVisitor<VectorSetter> {
 public:
  VectorSetter(const std::string& key, const std::vector<std::string>& values) : key_(key), values_(values) {}
  // Only list-of-string fields are set (set() ignores every other type).
  template <typename T>
  void on_field(FieldRole, const std::string& n, T& f, const std::string&) { set(n, f); }

 private:
  template <typename T>
  void set(const std::string& n, T& f) {
    if constexpr (std::is_same_v<T, std::vector<std::string>>)
      if (yaml_key_of(n) == key_) f = values_;
  }
  const std::string& key_;
  const std::vector<std::string>& values_;
};

void set_vector_field(AnyOptions& options, const std::string& key, const std::vector<std::string>& values) {
  VectorSetter setter(key, values);
  options.visit(setter);
}

std::vector<KeyCollector::Key> keys_of(const OptionsFactory& make) {
  AnyOptions options = make();
  KeyCollector collector;
  options.visit(collector);
  return collector.keys;
}

BoundStep bind_step(const OptionsFactory& make, const OptionsRunner& run, const YAML::Node& node,
                    const YamlSource& source, const std::string& context, const StepInputs& inputs) {
  AnyOptions options = make();
  YamlBinder binder(node, source, context);
  std::set<std::string> filled;
  for (const auto& [key, path] : inputs.models) filled.insert(key);
  if (!inputs.input_specs.empty()) filled.insert("input");
  for (const auto& [key, values] : inputs.source_fields) filled.insert(key);
  binder.set_filled_by_pipeline(filled);
  options.visit(binder);

  std::vector<std::string> known(binder.bound_keys().begin(), binder.bound_keys().end());
  known.insert(known.end(), binder.positionals().begin(), binder.positionals().end());
  check_unknown_keys(node, source, context, known);

  for (const auto& [key, path] : inputs.models) set_field(options, key, path);
  if (!binder.outputs().empty() && !inputs.output.empty()) set_field(options, binder.outputs().front(), inputs.output);
  // The pipeline's inputs apply unless the step names its own.
  if (!inputs.input_specs.empty() && !node["input"]) set_vector_field(options, "input", inputs.input_specs);
  // Other files a step writes (profile's trace) are plain names inside the
  // output folder, like the artifacts: a path could land on an input.
  for (const auto& key : binder.written_files()) {
    const YAML::Node value = node[key];
    if (!value || value.Scalar().empty()) continue;
    if (!is_plain_file_name(value.Scalar()))
      fail_at(source, value,
              context + ": " + key + " names a file inside the output folder (letters, digits, '-', '_', '.'), got '" +
                  value.Scalar() + "'");
    set_field(options, key, (std::filesystem::path(inputs.out_dir) / value.Scalar()).string());
  }
  for (const auto& [key, values] : inputs.source_fields) {
    if (node[key]) continue;
    if (values.size() == 1) set_field(options, key, values.front());
    set_vector_field(options, key, values);
  }

  // Values the run would refuse (amount: .inf, iters: -5) are refused now,
  // before any step runs, and --dry-run says so.
  try {
    options.check();
  } catch (const Error& e) {
    fail_at(source, node, context + ": " + e.what());
  }
  BoundStep bound;
  bound.options = options_to_json(options);
  bound.paths = path_roles_of(options);
  GlobalOptions globals = inputs.globals;
  bound.run = [run, options, globals]() -> nlohmann::json { return run(options, globals); };
  return bound;
}

}  // namespace

StepType options_step(std::string name, std::string summary, std::string artifact_extension, OptionsFactory make,
                      OptionsRunner run) {
  StepType type;
  type.name = std::move(name);
  type.summary = std::move(summary);
  type.artifact_extension = std::move(artifact_extension);
  type.keys = [make] { return keys_of(make); };
  type.bind = [make, run](const YAML::Node& node, const YamlSource& source, const std::string& context,
                          const StepInputs& inputs) { return bind_step(make, run, node, source, context, inputs); };
  return type;
}

}  // namespace mlopt::pipeline
