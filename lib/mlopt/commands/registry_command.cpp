// `mlopt registry list|show|diff|promote|verify REPO ...`: reads and promotes
// versions of a model repository (lib/mlopt/registry, docs/registry.md).
#include <fmt/format.h>

#include "mlopt/commands/command.h"
#include "mlopt/core/error.h"
#include "mlopt/registry/registry_actions.h"

namespace mlopt::commands {
namespace {
// `verify` fails (exit 3) when a file no longer matches its sha256.
Outcome registry_outcome(const RegistryResult& result) {
  Outcome outcome = outcome_of(result, result.passed ? kExitOk : kExitCheckFailed);
  if (!result.passed) outcome.error = "registry verify: a published file changed; see the FAIL lines";
  return outcome;
}
}  // namespace

Command registry_command() {
  auto command = make_command("registry", "List, show, diff, promote and verify the versions of a model repository",
                              &registry_action, registry_outcome);
  command.cli.footer =
      "Examples: mlopt registry list models/ | show models/ digits:2 | diff models/ digits:1 digits:2 |\n"
      "          promote models/ digits:2 | verify models/   (exit 3: a file does not match its sha256)";
  return command;
}
}  // namespace mlopt::commands
