// `mlopt trace`: binds TraceOptions to flags and calls mlopt::trace.
#include "cli_binding.h"
#include "command_registry.h"
#include "mlopt/capture/trace.h"
#include "mlopt/core/error.h"
#include "output.h"

namespace {

mlopt::cli::Action setup_trace(CLI::App& app) {
  auto options = std::make_shared<mlopt::TraceOptions>();
  mlopt::cli::bind_options(app, *options);
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::trace(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return mlopt::kExitOk;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("trace", "Record a static TorchScript graph by running the model on example inputs", 20,
                       setup_trace);
