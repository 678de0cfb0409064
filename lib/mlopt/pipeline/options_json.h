#pragma once
// An options struct written as JSON (YAML key -> value) through its `visit`:
// the resolved options of a step, for the cache key, the manifest and --dry-run.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "mlopt/core/options.h"
#include "mlopt/core/options_visitor.h"

namespace mlopt::pipeline {

class JsonWriter : public OptionsVisitor<JsonWriter> {
 public:
  template <typename T>
  void on_field(FieldRole, const std::string& n, T& f, const std::string&) { put(n, f); }
  nlohmann::json json = nlohmann::json::object();

 private:
  template <typename T>
  void put(const std::string& n, const T& f) { json[yaml_key_of(n)] = f; }
};

template <typename Options>
nlohmann::json options_to_json(const Options& options) {
  Options copy = options;
  JsonWriter writer;
  copy.visit(writer);
  return writer.json;
}

// Sets string fields by YAML key (the input model, the output path).
class PathSetter : public OptionsVisitor<PathSetter> {
 public:
  PathSetter(std::string key, std::string value) : key_(std::move(key)), value_(std::move(value)) {}
  // Only string and string-list fields can hold a path; set() ignores the rest.
  template <typename T>
  void on_field(FieldRole, const std::string& n, T& f, const std::string&) { set(n, f); }
  bool found = false;

 private:
  template <typename T>
  void set(const std::string& n, T& f) {
    if (yaml_key_of(n) != key_) return;
    if constexpr (std::is_same_v<T, std::string>) f = value_, found = true;
    else if constexpr (std::is_same_v<T, std::vector<std::string>>) f = {value_}, found = true;
  }
  std::string key_, value_;
};

template <typename Options>
bool set_field(Options& options, const std::string& key, const std::string& value) {
  PathSetter setter(key, value);
  options.visit(setter);
  return setter.found;
}

}  // namespace mlopt::pipeline
