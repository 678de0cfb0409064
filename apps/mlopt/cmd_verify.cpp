// mlopt verify A [B]: compare what two artifacts compute (exit 3 when they disagree).
#include "cli_binding.h"
#include "command_registry.h"
#include "output.h"
#include "mlopt/core/error.h"
#include "mlopt/verify/verify.h"

namespace {

mlopt::cli::Action setup_verify(CLI::App& app) {
  auto options = std::make_shared<mlopt::VerifyOptions>();
  mlopt::cli::bind_options(app, *options);
  app.get_option("--dynamic-sizes")->delimiter(',');
  return [options](const mlopt::GlobalOptions& globals) {
    auto result = mlopt::verify(*options, globals);
    mlopt::cli::print_result(globals, result.to_json(), result.to_text());
    return result.passed ? mlopt::kExitOk : mlopt::kExitCheckFailed;
  };
}

}  // namespace

MLOPT_REGISTER_COMMAND("verify", "Check that two artifacts (or one and stored outputs) compute the same thing", 60,
                       setup_verify);
