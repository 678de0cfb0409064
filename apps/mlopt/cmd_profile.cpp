// mlopt profile MODEL: latency, throughput, memory, FLOPs, per-op breakdown.
#include "cli_binding.h"
#include "command_registry.h"
#include "output.h"
#include "mlopt/core/error.h"
#include "mlopt/profile/profile.h"

namespace {

mlopt::cli::Action setup_profile(CLI::App& app) {
  auto options = std::make_shared<mlopt::ProfileOptions>();
  // `--threads 1,2` here is the list of thread counts to measure; it replaces
  // the global --threads (which profile would otherwise apply to every run).
  if (auto* global_threads = app.get_option_no_throw("--threads")) app.remove_option(global_threads);
  mlopt::cli::bind_options(app, *options);
  for (const char* list : {"--batch", "--threads"}) app.get_option(list)->delimiter(',');
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::profile(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return mlopt::kExitOk;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("profile", "Measure latency, throughput, memory and FLOPs of an artifact", 70, setup_profile);
