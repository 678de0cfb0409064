// `--set key.path=value`: edits the YAML tree after env substitution and
// before validation, so an override is checked like a key in the file.
#include <fmt/format.h>

#include "mlopt/core/error.h"
#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/pipeline/yaml_guard.h"

namespace mlopt::pipeline {

namespace {
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

// A copy made of fresh nodes: they carry no position, so errors about an
// overridden value say "--set" instead of pointing into the file.
YAML::Node fresh_copy(const YAML::Node& node) {
  if (node.IsScalar()) return YAML::Node(node.Scalar());
  YAML::Node copy;
  if (node.IsSequence()) {
    copy = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& item : node) copy.push_back(fresh_copy(item));
  } else if (node.IsMap()) {
    copy = YAML::Node(YAML::NodeType::Map);
    for (const auto& entry : node) copy[entry.first.Scalar()] = fresh_copy(entry.second);
  }
  return copy;
}

bool is_index(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// The element of a list named by `part`: a position, or the item whose `name` is `part`.
YAML::Node list_element(YAML::Node list, const std::string& part, const std::string& assignment) {
  if (is_index(part)) {
    if (part.size() > 9 || std::stoul(part) >= list.size()) fail_usage("--set {}: index {} is past the end of a list of {}", assignment, part, list.size());
    return list[std::stoul(part)];
  }
  for (auto item : list)
    if (item.IsMap() && item["name"] && item["name"].Scalar() == part) return item;
  fail_usage("--set {}: no item named '{}' in the list", assignment, part);
}
}  // namespace

void apply_override(YAML::Node& root, const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) fail_usage("--set {}: expected key.path=value", assignment);
  const std::vector<std::string> parts = split_path(assignment.substr(0, eq));
  YAML::Node value;
  try {
    check_yaml_text(assignment.substr(eq + 1), "--set " + assignment.substr(0, eq));
  } catch (const Error& e) {
    fail_usage("{}", e.what());
  }
  try {
    value = fresh_copy(YAML::Load(assignment.substr(eq + 1)));
  } catch (const YAML::Exception& e) {
    fail_usage("--set {}: the value is not valid YAML ({})", assignment, e.msg);
  }
  if (value.IsNull() && assignment.size() == eq + 1) value = std::string();
  for (const auto& part : parts)
    if (part.empty()) fail_usage("--set {}: empty key in the path", assignment);

  // Walk with node handles: yaml-cpp nodes are references into one tree.
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node current = chain.back();
    if (current.IsSequence()) {
      chain.push_back(list_element(current, parts[i], assignment));
    } else {
      if (!current.IsMap() && current.IsDefined() && !current.IsNull())
        fail_usage("--set {}: {} is not a mapping", assignment,
                   i == 0 ? std::string("the pipeline's top level") : "'" + parts[i - 1] + "'");
      chain.push_back(current[parts[i]]);
    }
  }
  YAML::Node parent = chain.back();
  const std::string& last = parts.back();
  if (parent.IsSequence()) {
    YAML::Node element = list_element(parent, last, assignment);
    element = value;
  } else {
    if (!parent.IsMap() && parent.IsDefined() && !parent.IsNull())
      fail_usage("--set {}: {} is not a mapping", assignment,
                 parts.size() == 1 ? std::string("the pipeline's top level") : "'" + parts[parts.size() - 2] + "'");
    parent[last] = value;
  }
}

}  // namespace mlopt::pipeline
