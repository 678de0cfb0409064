#pragma once
// Binds a step's YAML mapping to a subcommand's options struct through the same
// `visit` that the CLI uses (mlopt/core/options.h): the YAML key of a field is
// the snake_case of its flag name (`yaml_key_of`). Values are type-checked and
// errors carry file:line:column. Keys the struct does not declare are left for
// `unknown_keys`, which the step registry turns into "did you mean" errors.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "mlopt/core/options.h"
#include "mlopt/core/options_visitor.h"
#include "mlopt/pipeline/yaml_source.h"

namespace mlopt::pipeline {

namespace detail {
template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};

template <typename T>
const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else return "a string";
}

// Converts one scalar; false when it does not parse as T.
template <typename T>
bool scalar_as(const YAML::Node& node, T& out) {
  if (!node.IsScalar()) return false;
  if constexpr (std::is_same_v<T, std::string>) {
    out = node.Scalar();
    return true;
  } else {
    try {
      out = node.as<T>();
      return true;
    } catch (const YAML::Exception&) {
      return false;
    }
  }
}
}  // namespace detail

class YamlBinder {
 public:
  // `node` is the step's mapping; `context` names it in messages ("step 'train'").
  YamlBinder(const YAML::Node& node, const YamlSource& source, std::string context)
      : node_(node), source_(source), context_(std::move(context)) {}

  // Positional fields and outputs are the pipeline's to set (models flow from
  // step to step); they are recorded so that the runner can fill them.
  template <typename T>
  void positional(const std::string& name, T&, const std::string&) {
    positionals_.push_back(yaml_key_of(name));
  }
  template <typename T>
  void optional_positional(const std::string& name, T&, const std::string&) {
    positionals_.push_back(yaml_key_of(name));
  }
  template <typename T>
  void option(const std::string& name, T& field, const std::string&) {
    bind(yaml_key_of(name), field);
  }
  template <typename T>
  void required_option(const std::string& name, T& field, const std::string&) {
    const std::string key = yaml_key_of(name);
    if (!node_[key] && !is_filled_by_pipeline(key))
      fail_at(source_, node_, context_ + ": missing required key '" + key + "'");
    bind(key, field);
  }
  void flag(const std::string& name, bool& field, const std::string&) { bind(yaml_key_of(name), field); }
  void choice(const std::string& name, std::string& field, const std::vector<std::string>& choices,
              const std::string&) {
    const std::string key = yaml_key_of(name);
    bind(key, field);
    if (!node_[key]) return;
    for (const auto& c : choices)
      if (c == field) return;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    fail_at(source_, node_[key], context_ + ": " + key + " must be one of " + list + ", got '" + field + "'");
  }
  void output(const std::string& name, std::string&, const std::string&) { outputs_.push_back(yaml_key_of(name)); }
  void optional_output(const std::string& name, std::string&, const std::string&) {
    outputs_.push_back(yaml_key_of(name));
  }
  // A file the step writes besides its artifact (profile's trace): bound
  // like an option; the step registry places it inside the output folder.
  void written_file(const std::string& name, std::string& field, const std::string&) {
    bind(yaml_key_of(name), field);
    written_files_.push_back(yaml_key_of(name));
  }

  // Keys the pipeline itself fills (the input model, inputs from the pipeline's
  // `inputs:`) count as present for required options.
  void set_filled_by_pipeline(std::set<std::string> keys) { filled_by_pipeline_ = std::move(keys); }

  const std::vector<std::string>& positionals() const { return positionals_; }
  const std::vector<std::string>& outputs() const { return outputs_; }
  const std::vector<std::string>& written_files() const { return written_files_; }
  const std::set<std::string>& bound_keys() const { return bound_; }

 private:
  bool is_filled_by_pipeline(const std::string& key) const { return filled_by_pipeline_.count(key) > 0; }

  template <typename T>
  void bind(const std::string& key, T& field) {
    known_(key);
    const YAML::Node value = node_[key];
    if (!value) return;
    if constexpr (detail::is_vector<T>::value) {
      using E = typename T::value_type;
      T items;
      // A single scalar is a one-element list, as a repeated flag given once.
      if (value.IsScalar()) {
        E item;
        if (!detail::scalar_as(value, item)) type_error<E>(key, value, "");
        items.push_back(item);
      } else if (value.IsSequence()) {
        for (const auto& element : value) {
          E item;
          if (!detail::scalar_as(element, item)) type_error<E>(key, element, " in the list");
          items.push_back(item);
        }
      } else {
        fail_at(source_, value, context_ + ": " + key + " expects a list of " + detail::type_name<E>() + "s, got " +
                                    describe_node(value));
      }
      field = std::move(items);
    } else {
      if (!detail::scalar_as(value, field)) type_error<T>(key, value, "");
    }
  }

  template <typename E>
  [[noreturn]] void type_error(const std::string& key, const YAML::Node& value, const std::string& where) {
    fail_at(source_, value,
            context_ + ": " + key + " expects " + detail::type_name<E>() + where + ", got " + describe_node(value));
  }

  void known_(const std::string& key) { bound_.insert(key); }

  const YAML::Node& node_;
  const YamlSource& source_;
  std::string context_;
  std::vector<std::string> positionals_, outputs_, written_files_;
  std::set<std::string> bound_, filled_by_pipeline_;
};

// Collects every YAML key an options struct declares (for "did you mean",
// the config reference and --dry-run), without binding anything.
class KeyCollector : public OptionsVisitor<KeyCollector> {
 public:
  struct Key {
    std::string name, kind, help;
  };
  template <typename T>
  void on_field(FieldRole role, const std::string& n, T&, const std::string& h) {
    switch (role) {
      case FieldRole::positional:
      case FieldRole::optional_positional: return add(n, "model", h);
      case FieldRole::required_option: return add(n, kind_of<T>() + ", required", h);
      case FieldRole::output:
      case FieldRole::optional_output: return add(n, "output", h);
      case FieldRole::written_file: return add(n, "file name (written inside --out)", h);
      default: return add(n, kind_of<T>(), h);
    }
  }
  void on_choice(const std::string& n, std::string&, const std::vector<std::string>& choices, const std::string& h) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
    add(n, list, h);
  }
  std::vector<Key> keys;

 private:
  template <typename T>
  static std::string kind_of() {
    if constexpr (detail::is_vector<T>::value) return "list of " + kind_of<typename T::value_type>();
    else if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_integral_v<T>) return "int";
    else if constexpr (std::is_floating_point_v<T>) return "float";
    else return "string";
  }
  void add(const std::string& n, const std::string& kind, const std::string& help) {
    keys.push_back({yaml_key_of(n), kind, help});
  }
};

}  // namespace mlopt::pipeline
