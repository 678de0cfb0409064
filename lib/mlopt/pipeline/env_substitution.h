#pragma once
// `${NAME}` and `${NAME:-default}` in YAML scalars, resolved from the environment
// before validation. `$$` writes a literal `$`.
#include <functional>
#include <optional>
#include <string>

#include "mlopt/pipeline/yaml_source.h"

namespace mlopt::pipeline {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
EnvLookup process_environment();

// Substitutes in one string; throws a message naming the variable when it is
// unset and has no default, or when the `${` is not closed.
std::string substitute_env(const std::string& text, const EnvLookup& env);

// Substitutes in every scalar of the tree, in place; errors carry file:line:column.
void substitute_env_in_tree(YAML::Node node, const YamlSource& source, const EnvLookup& env);

}  // namespace mlopt::pipeline
