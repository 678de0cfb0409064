// mlopt run PIPELINE.yaml: runs a release pipeline (see docs/run.md).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_binding.h"
#include "command_registry.h"
#include "mlopt/core/error.h"
#include "mlopt/pipeline/run.h"
#include "output.h"

namespace {

mlopt::cli::Action setup_run(CLI::App& app) {
  auto options = std::make_shared<mlopt::RunOptions>();
  mlopt::cli::bind_options(app, *options);
  // One value per --set, so that `--set a=1 pipeline.yaml` keeps the positional.
  app.get_option("--set")->allow_extra_args(false);
  return [options](const mlopt::GlobalOptions& globals) {
    const mlopt::RunResult result = mlopt::run_pipeline(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    // Gates fail after the report is written, with the gate and its figure named.
    const auto failed = result.failed_gates();
    if (!failed.empty())
      throw mlopt::Error(fmt::format("gate failed: {} ({}){}", failed.front()->name, failed.front()->figure,
                                     failed.size() > 1 ? fmt::format(", and {} more; see {}/report.md", failed.size() - 1, result.out_dir) : ""),
                         mlopt::kExitCheckFailed);
    return mlopt::kExitOk;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("run", "Run a release pipeline from a YAML file (steps, cache, manifest, reports, gates)", 90,
                       setup_run);
