#pragma once
// Subcommands register themselves (one file each); main() builds the CLI from
// the registry and owns error handling and exit codes.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "mlopt/core/options.h"

namespace mlopt::cli {

// What a subcommand does once its flags are parsed; returns the exit code.
using Action = std::function<int(const GlobalOptions&)>;

struct Command {
  std::string name;
  std::string summary;
  int order = 100;  // position in `mlopt --help`
  // Adds the subcommand's own flags to `app` and returns its action.
  std::function<Action(CLI::App& app)> setup;
};

std::vector<Command>& commands();

struct CommandRegistrar {
  explicit CommandRegistrar(Command command) { commands().push_back(std::move(command)); }
};

}  // namespace mlopt::cli

#define MLOPT_CLI_CONCAT2(a, b) a##b
#define MLOPT_CLI_CONCAT(a, b) MLOPT_CLI_CONCAT2(a, b)
#define MLOPT_REGISTER_COMMAND(...) \
  static ::mlopt::cli::CommandRegistrar MLOPT_CLI_CONCAT(mlopt_command_, __LINE__)(::mlopt::cli::Command{__VA_ARGS__})
