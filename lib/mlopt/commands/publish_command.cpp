// `mlopt publish RELEASE_DIR REPO`: a release folder becomes a new version of a
// model repository (lib/mlopt/registry, docs/registry.md). Not a step: `mlopt
// run --publish REPO` publishes a passing run.
#include "mlopt/commands/command.h"
#include "mlopt/registry/publish.h"

namespace mlopt::commands {
Command publish_command() {
  auto command = make_command("publish", "Publish a release folder as a new version of a model repository (REPO/<model>/<version>/)",
                              &publish);
  command.cli.footer = "Example: mlopt publish mlopt-out/digits-release models/ --version 1.4.0";
  return command;
}
}  // namespace mlopt::commands
