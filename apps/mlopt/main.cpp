// mlopt: the command-line front end. main() builds the CLI from the command
// table (lib/mlopt/commands), applies the global options, and owns error handling and exit codes.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <fmt/format.h>

#include "cli_binding.h"
#include "mlopt/commands/command_table.h"
#include "mlopt/core/libtorch_cause.h"
#include "mlopt/core/deadline.h"
#include "mlopt/core/error.h"
#include "mlopt/core/interrupt.h"
#include "mlopt/core/log.h"
#include "mlopt/core/options.h"
#include "mlopt/core/version.h"

namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 success, 1 error (bad input, failure), 2 usage error,\n"
    "            3 a check failed (trace check, verify, pipeline gates), 130 interrupted.";

void add_global_options(CLI::App& app, mlopt::GlobalOptions& g, double& timeout) {
  app.add_option("--timeout", timeout, "Stop with an error after this many seconds (default 0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", g.threads, "Intra-op threads, 1 to 1024 (default 0: all cores)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--seed", g.seed, "Seed for everything random")->capture_default_str();
  app.add_flag("-v,--verbose", g.verbose, "More detail, and the original text of library errors");
  app.add_flag("-q,--quiet", g.quiet, "Only errors on stderr");
  app.add_flag("--json", g.json, "Print the result as one JSON object on stdout");
}

void report_error(const std::string& message, const std::string& detail, bool verbose) {
  fmt::print(stderr, "{} {}\n", mlopt::log::red("mlopt: error:"), message);
  if (verbose && !detail.empty()) fmt::print(stderr, "{}\n", detail);
}

// Flushes what the command printed and ends the process without running the
// static destructors: LibTorch's unregister its thousands of operators one by
// one (~0.1 s, a tenth of a short command). Every artifact is written, synced
// and renamed into place before a command returns, so nothing is lost.
[[noreturn]] void exit_now(int code) {
  std::cout.flush();
  bool lost_output = std::fflush(stdout) != 0 || std::ferror(stdout) || std::cout.fail();
  if (lost_output && code == 0) {
    report_error("cannot write to standard output", "", false);
    code = mlopt::kExitError;
  }
  std::fflush(stderr);
  std::_Exit(code);
}

int run_cli(int argc, char** argv) {
  mlopt::install_interrupt_handlers();
  CLI::App app{"mlopt: optimize PyTorch models into TorchScript, mobile and ONNX release artifacts", "mlopt"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", mlopt::version_line());
  mlopt::GlobalOptions globals;
  // Global options work before the subcommand too (`mlopt -q run ...`).
  double timeout = 0;
  add_global_options(app, globals, timeout);

  std::vector<std::pair<CLI::App*, mlopt::cli::Action>> actions;
  for (const auto& command : mlopt::commands::command_table()) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    sub->footer(command.cli.footer.empty() ? kExitCodesHelp : command.cli.footer);
    add_global_options(*sub, globals, timeout);
    actions.emplace_back(sub, mlopt::cli::bind_command(*sub, command));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    report_error(e.what(), "", false);
    fmt::print(stderr, "Run 'mlopt --help' (or 'mlopt COMMAND --help') for usage.\n");
    return mlopt::kExitUsage;
  }

  for (auto& [sub, action] : actions) {
    if (!sub->parsed()) continue;
    try {
      mlopt::apply_global_options(globals);
      mlopt::arm_deadline(timeout, "mlopt " + sub->get_name());
      return action(globals);
    } catch (const mlopt::Error& e) {
      report_error(e.what(), e.detail(), globals.verbose);
      return e.exit_code();
    } catch (const std::filesystem::filesystem_error& e) {
      // "filesystem error: cannot create directories: Permission denied [/x]"
      std::string what = e.what();
      const std::string prefix = "filesystem error: ";
      if (what.rfind(prefix, 0) == 0) what = what.substr(prefix.size());
      report_error(mlopt::first_line(what), e.what(), globals.verbose);
      return mlopt::kExitError;
    } catch (const std::exception& e) {
      report_error(mlopt::libtorch_cause(e.what()), e.what(), globals.verbose);
      return mlopt::kExitError;
    }
  }
  fmt::print("{}", app.help());
  return mlopt::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) { exit_now(run_cli(argc, argv)); }
