// mlopt serve MODEL|RELEASE_DIR: the artifact behind a KServe v2 HTTP endpoint.
#include "cli_binding.h"
#include "command_registry.h"
#include "output.h"
#include "mlopt/core/error.h"
#include "mlopt/serve/serve.h"

namespace {

mlopt::cli::Action setup_serve(CLI::App& app) {
  auto options = std::make_shared<mlopt::ServeOptions>();
  mlopt::cli::bind_options(app, *options);
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::serve(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return mlopt::kExitOk;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("serve", "Serve an artifact over HTTP (KServe v2 protocol): batching, validation, metrics", 95,
                       setup_serve);
