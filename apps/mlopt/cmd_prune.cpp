// mlopt prune: thin CLI over mlopt::prune (lib/mlopt/prune/prune.h).
#include "cli_binding.h"
#include "command_registry.h"
#include "mlopt/prune/prune.h"
#include "output.h"

namespace {

mlopt::cli::Action setup_prune(CLI::App& app) {
  auto options = std::make_shared<mlopt::PruneOptions>();
  mlopt::cli::bind_options(app, *options);
  app.footer(
      "Methods: l1-unstructured (per layer), global-unstructured (all layers ranked together),\n"
      "ln-structured (zero whole output channels), channel (remove channels and everything coupled to them).\n"
      "Example: mlopt prune resnet.pt --method channel --amount 0.5 --input x:1x3x224x224 -o small.pt\n"
      "Exit codes: 0 success, 1 error (bad input, failure), 2 usage error,\n"
      "            3 a check failed (the artifact does not reproduce the pruned model), 130 interrupted.");
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::prune(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return 0;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("prune", "Prune weights or channels of a model", 60, setup_prune);
