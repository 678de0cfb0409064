#pragma once
// Where a YAML node came from, for errors that say `file:line:column`.
#include <yaml-cpp/yaml.h>

#include <string>

namespace mlopt::pipeline {

struct YamlSource {
  std::string file;  // the pipeline file as the user named it

  // "pipeline.yaml:12:5" (1-based), or "--set" for a node made by an override.
  std::string at(const YAML::Node& node) const;
};

// "file:line:col: message" as an mlopt::Error (exit code 1).
[[noreturn]] void fail_at(const YamlSource& source, const YAML::Node& node, const std::string& message);

// A short, quoted rendering of a node for messages ("'abc'", "a list", "a mapping").
std::string describe_node(const YAML::Node& node);

}  // namespace mlopt::pipeline
