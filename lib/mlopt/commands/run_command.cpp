// `mlopt run PIPELINE.yaml`: runs a release pipeline (lib/mlopt/pipeline,
// docs/run.md). Not a step itself.
#include <fmt/format.h>

#include "mlopt/commands/command.h"
#include "mlopt/core/error.h"
#include "mlopt/pipeline/run.h"
#include "mlopt/profile/ab_timing.h"

namespace mlopt::commands {
namespace {
// Gates fail after the report is written, with the gate and its figure named.
Outcome run_outcome(const RunResult& result) {
  Outcome outcome = outcome_of(result);
  const auto failed = result.failed_gates();
  const auto noisy = result.inconclusive_gates();
  if (failed.empty() && !noisy.empty()) {
    // Neither a pass nor a fail: the figure stayed noisy after re-measuring.
    outcome.exit_code = kExitInconclusive;
    outcome.error = fmt::format("gate inconclusive: {} ({}); re-run on a quieter machine", noisy.front()->name,
                                noisy.front()->figure);
    return outcome;
  }
  if (failed.empty()) return outcome;
  outcome.exit_code = kExitCheckFailed;
  outcome.error = fmt::format(
      "gate failed: {} ({}){}", failed.front()->name, failed.front()->figure,
      failed.size() > 1 ? fmt::format(", and {} more; see {}/report.md", failed.size() - 1, result.out_dir) : "");
  return outcome;
}
}  // namespace

Command run_command() {
  auto command = make_command("run", "Run a release pipeline from a YAML file (steps, cache, manifest, reports, gates)",
                              &run_pipeline, run_outcome);
  // One value per --set, so that `--set a=1 pipeline.yaml` keeps the positional.
  command.cli.single_value_flags = {"set"};
  return command;
}
}  // namespace mlopt::commands
