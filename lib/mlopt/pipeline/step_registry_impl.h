#pragma once
// Template part of step_registry.h.
#include <filesystem>

#include "mlopt/core/error.h"
#include "mlopt/pipeline/options_json.h"
#include "mlopt/pipeline/output_files.h"

namespace mlopt::pipeline {

namespace detail {
class VectorSetter {
 public:
  VectorSetter(const std::string& key, const std::vector<std::string>& values) : key_(key), values_(values) {}
  template <typename T>
  void positional(const std::string& n, T& f, const std::string&) { set(n, f); }
  template <typename T>
  void optional_positional(const std::string& n, T& f, const std::string&) { set(n, f); }
  template <typename T>
  void option(const std::string& n, T& f, const std::string&) { set(n, f); }
  template <typename T>
  void required_option(const std::string& n, T& f, const std::string&) { set(n, f); }
  void flag(const std::string&, bool&, const std::string&) {}
  void choice(const std::string&, std::string&, const std::vector<std::string>&, const std::string&) {}
  void output(const std::string&, std::string&, const std::string&) {}
  void optional_output(const std::string&, std::string&, const std::string&) {}
  void written_file(const std::string&, std::string&, const std::string&) {}

 private:
  template <typename T>
  void set(const std::string& n, T& f) {
    if constexpr (std::is_same_v<T, std::vector<std::string>>)
      if (yaml_key_of(n) == key_) f = values_;
  }
  const std::string& key_;
  const std::vector<std::string>& values_;
};

template <typename Options>
void set_vector_field(Options& options, const std::string& key, const std::vector<std::string>& values) {
  VectorSetter setter(key, values);
  options.visit(setter);
}

// `check_options(const Options&)`, found by argument-dependent lookup where the
// subcommand declares one.
template <typename Options, typename = void>
struct has_check_options : std::false_type {};
template <typename Options>
struct has_check_options<Options, std::void_t<decltype(check_options(std::declval<const Options&>()))>>
    : std::true_type {};

template <typename Options>
std::vector<KeyCollector::Key> keys_of() {
  Options options;
  KeyCollector collector;
  options.visit(collector);
  return collector.keys;
}
}  // namespace detail

template <typename Options, typename Result>
StepType subcommand_step(std::string name, std::string summary, std::string artifact_extension,
                         Result (*fn)(const Options&, const GlobalOptions&)) {
  StepType type;
  type.name = std::move(name);
  type.summary = std::move(summary);
  type.artifact_extension = std::move(artifact_extension);
  type.keys = [] { return detail::keys_of<Options>(); };
  type.bind = [fn](const YAML::Node& node, const YamlSource& source, const std::string& context,
                   const StepInputs& inputs) {
    Options options;
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
    if (!inputs.input_specs.empty() && !node["input"]) detail::set_vector_field(options, "input", inputs.input_specs);
    // Other files a step writes (profile's trace) are plain names inside the
    // output folder, like the artifacts: a path could land on an input.
    for (const auto& key : binder.written_files()) {
      const YAML::Node value = node[key];
      if (!value || value.Scalar().empty()) continue;
      if (!is_plain_file_name(value.Scalar()))
        fail_at(source, value, context + ": " + key +
                                   " names a file inside the output folder (letters, digits, '-', '_', '.'), got '" +
                                   value.Scalar() + "'");
      set_field(options, key, (std::filesystem::path(inputs.out_dir) / value.Scalar()).string());
    }
    for (const auto& [key, values] : inputs.source_fields) {
      if (node[key]) continue;
      if (values.size() == 1) set_field(options, key, values.front());
      detail::set_vector_field(options, key, values);
    }

    // Values the run would refuse (amount: .inf, iters: -5) are refused now,
    // before any step runs, and --dry-run says so.
    if constexpr (detail::has_check_options<Options>::value) {
      try {
        check_options(options);
      } catch (const Error& e) {
        fail_at(source, node, context + ": " + e.what());
      }
    }
    BoundStep bound;
    bound.options = options_to_json(options);
    bound.paths = path_roles_of(options);
    GlobalOptions globals = inputs.globals;
    bound.run = [fn, options, globals]() -> nlohmann::json { return fn(options, globals).to_json(); };
    return bound;
  };
  return type;
}

}  // namespace mlopt::pipeline
