// A command of the table (lib/mlopt/commands) as a CLI11 subcommand.
#include <memory>

#include "cli_binding.h"
#include "mlopt/core/error.h"
#include "output.h"

namespace mlopt::cli {

Action bind_command(CLI::App& app, const commands::Command& command) {
  for (const auto& flag : command.cli.replaced_global_flags)
    if (auto* global = app.get_option_no_throw("--" + flag)) app.remove_option(global);
  auto options = std::make_shared<AnyOptions>(command.make_options());
  bind_options(app, *options);
  for (const auto& flag : command.cli.list_flags) app.get_option("--" + flag)->delimiter(',');
  for (const auto& flag : command.cli.single_value_flags) app.get_option("--" + flag)->allow_extra_args(false);
  return [options, &command](const GlobalOptions& globals) {
    const commands::Outcome outcome = command.run(*options, globals);
    if (outcome.print) print_result(globals, outcome.json, outcome.text);
    if (!outcome.error.empty()) throw Error(outcome.error, outcome.exit_code);
    return outcome.exit_code;
  };
}

}  // namespace mlopt::cli
