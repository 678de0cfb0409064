#include "mlopt/pipeline/yaml_source.h"

#include <fmt/format.h>

#include "mlopt/core/error.h"

namespace mlopt::pipeline {

std::string YamlSource::at(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return "--set";
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

void fail_at(const YamlSource& source, const YAML::Node& node, const std::string& message) {
  throw Error(fmt::format("{}: {}", source.at(node), message));
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null: return "nothing";
    default: return "an undefined value";
  }
}

}  // namespace mlopt::pipeline
