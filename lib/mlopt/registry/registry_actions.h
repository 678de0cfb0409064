#pragma once
// `mlopt registry list|show|diff|promote|verify REPO ...`: what a model
// repository holds, what a version is (metrics, gates, sizes, who/when/what
// config), how two versions differ, which one is served by default, and
// whether every file still matches its sha256 (exit 3 otherwise). No LibTorch.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "mlopt/core/options.h"

namespace mlopt {

struct RegistryOptions {
  std::string action;               // list | show | diff | promote | verify
  std::string repo;
  std::vector<std::string> targets;  // MODEL[:VERSION] ...

  template <class V>
  void visit(V& v) {
    v.positional("action", action, "list [MODEL] | show MODEL[:V] | diff MODEL:A MODEL:B | promote MODEL:V | verify [MODEL[:V]]");
    v.positional("repo", repo, "Model repository folder");
    v.optional_positional("targets", targets, "MODEL or MODEL:VERSION, as the action needs");
  }
};

struct RegistryResult {
  std::string action;
  nlohmann::json data;
  std::string text;
  bool passed = true;  // verify: every file matches

  nlohmann::json to_json() const { return data; }
  std::string to_text() const { return text; }
};

RegistryResult registry_action(const RegistryOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
