#include "mlopt/pipeline/env_substitution.h"

#include <cstdlib>
#include <stdexcept>

namespace mlopt::pipeline {

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

namespace {
bool valid_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}
}  // namespace

std::string substitute_env(const std::string& text, const EnvLookup& env) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += text[i];
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string::npos) throw std::invalid_argument("unclosed '${' in '" + text + "'");
    std::string body = text.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    size_t dash = body.find(":-");
    std::string name = body.substr(0, dash);
    if (dash != std::string::npos) fallback = body.substr(dash + 2);
    if (!valid_name(name)) throw std::invalid_argument("'${" + body + "}' is not a variable name");
    auto value = env(name);
    // Like the shell's ${NAME:-default}: an empty value takes the default too.
    if (!value || (value->empty() && fallback)) {
      if (!fallback) throw std::invalid_argument("environment variable " + name + " is not set (write ${" + name + ":-default} for a default)");
      value = fallback;
    }
    out += *value;
    i = close;
  }
  return out;
}

void substitute_env_in_tree(YAML::Node node, const YamlSource& source, const EnvLookup& env) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find('$') == std::string::npos) return;
    try {
      node = substitute_env(text, env);
    } catch (const std::invalid_argument& e) {
      fail_at(source, node, e.what());
    }
  } else if (node.IsSequence()) {
    for (auto child : node) substitute_env_in_tree(child, source, env);
  } else if (node.IsMap()) {
    for (auto entry : node) substitute_env_in_tree(entry.second, source, env);
  }
}

}  // namespace mlopt::pipeline
