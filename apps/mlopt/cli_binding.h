#pragma once
// Binds an options struct's fields (see mlopt/core/options.h) to CLI11 flags.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "mlopt/commands/command.h"
#include "mlopt/core/options.h"

namespace mlopt::cli {

class CliBinder {
 public:
  explicit CliBinder(CLI::App& app) : app_(app) {}

  template <typename T>
  void positional(const std::string& name, T& field, const std::string& help) {
    app_.add_option(name, field, help)->required();
  }
  // An optional positional (e.g. verify's second artifact).
  template <typename T>
  void optional_positional(const std::string& name, T& field, const std::string& help) {
    app_.add_option(name, field, help);
  }
  template <typename T>
  void option(const std::string& name, T& field, const std::string& help) {
    auto* opt = app_.add_option("--" + name, field, help);
    if constexpr (!is_vector<T>::value) opt->capture_default_str();
  }
  template <typename T>
  void required_option(const std::string& name, T& field, const std::string& help) {
    app_.add_option("--" + name, field, help)->required();
  }
  void flag(const std::string& name, bool& field, const std::string& help) { app_.add_flag("--" + name, field, help); }
  void choice(const std::string& name, std::string& field, const std::vector<std::string>& choices,
              const std::string& help) {
    app_.add_option("--" + name, field, help)->check(CLI::IsMember(choices))->capture_default_str();
  }
  void output(const std::string& name, std::string& field, const std::string& help) {
    app_.add_option("-o,--" + name, field, help)->required();
  }
  void optional_output(const std::string& name, std::string& field, const std::string& help) {
    app_.add_option("-o,--" + name, field, help);
  }
  void written_file(const std::string& name, std::string& field, const std::string& help) {
    app_.add_option("--" + name, field, help);
  }

 private:
  template <typename T>
  struct is_vector : std::false_type {};
  template <typename T>
  struct is_vector<std::vector<T>> : std::true_type {};
  CLI::App& app_;
};

template <typename Options>
void bind_options(CLI::App& app, Options& options) {
  CliBinder binder(app);
  options.visit(binder);
}

// What a subcommand does once its flags are parsed; returns the exit code.
using Action = std::function<int(const GlobalOptions&)>;

// Adds a command of the table to `app` (its options struct's flags, with the
// command's CliSpec) and returns what runs it.
Action bind_command(CLI::App& app, const commands::Command& command);

}  // namespace mlopt::cli
