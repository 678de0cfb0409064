// `mlopt monitor VERSION_DIR --data REQUESTS`: drift of a batch of requests
// against the version's baseline (lib/mlopt/registry, docs/monitor.md).
#include <fmt/format.h>

#include "mlopt/commands/command.h"
#include "mlopt/core/error.h"
#include "mlopt/registry/monitor.h"

namespace mlopt::commands {
namespace {
// Drift fails (exit 3) after the report is printed, naming the worst figure.
Outcome monitor_outcome(const MonitorResult& result) {
  Outcome outcome = outcome_of(result, result.drift.drift() ? kExitCheckFailed : kExitOk);
  if (!result.drift.drift()) return outcome;
  for (const auto& f : result.drift.figures)
    if (f.drift) {
      outcome.error = fmt::format("drift: {} {} = {:.4f} beyond {:g}", f.subject, f.kind, f.value, f.threshold);
      break;
    }
  return outcome;
}
}  // namespace

Command monitor_command() {
  auto command = make_command("monitor", "Check a batch of requests for drift against a published version's baseline",
                              &monitor, monitor_outcome);
  command.cli.footer = "Example: mlopt monitor models/digits/2 --data requests.jsonl --report drift.md  (exit 3: drift)";
  return command;
}
}  // namespace mlopt::commands
