#pragma once
// How a command prints its result: the JSON object on stdout with --json,
// otherwise the human text (also on stdout); logs and progress go to stderr.
#include <nlohmann/json.hpp>

#include <string>

#include "mlopt/core/options.h"

namespace mlopt::cli {
void print_result(const GlobalOptions& globals, const nlohmann::json& json, const std::string& human_text);
}  // namespace mlopt::cli
