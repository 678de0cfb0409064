#pragma once
// One subcommand of mlopt: its name and summary in `mlopt --help`, its options
// struct and library function, how its result is printed and turned into an
// exit code, and the pipeline step types that run it. command_table.cpp lists
// every command; apps/mlopt builds the CLI from that list and pipeline_steps.cpp
// registers the step types. No LibTorch here.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mlopt/core/any_options.h"
#include "mlopt/core/options.h"

namespace mlopt::commands {

// What a command run from the CLI prints and returns.
struct Outcome {
  nlohmann::json json;   // printed with --json
  std::string text;      // printed otherwise (unless -q)
  int exit_code = 0;
  bool print = true;     // false: print nothing (distill on a rank other than 0)
  std::string error;     // a check that failed after the result was printed (run's gates), with exit_code
};

using ResultHook = std::function<nlohmann::json(const nlohmann::json& result)>;
using FailureHook = std::function<std::string(const nlohmann::json& result)>;

// A pipeline step type that runs the command.
struct StepSpec {
  std::string name;                // the `type:` of a step
  std::string summary;
  std::string artifact_extension;  // ".pt", ".onnx"; empty for a step that measures (verify, profile)
  std::string primary_model_key;   // the key `from:` fills (default: the first positional)
  std::vector<std::string> model_option_keys;  // options that name models too (distill's teacher)
  ResultHook metrics;              // figures recorded on the model the step read (`latency_ms`, `accuracy`)
  ResultHook reference_metrics;    // ... and on the second model it read (verify's reference)
  FailureHook failure;             // "" when the result passed, else why not (a failed check, like a gate)
};

// How the command's flags differ from the plain binding of its options struct.
struct CliSpec {
  std::string footer;                              // replaces the exit-code footer of its --help
  std::vector<std::string> list_flags;             // take comma-separated lists: --batch 1,2
  std::vector<std::string> single_value_flags;     // one value per use, so a positional may follow (run's --set)
  std::vector<std::string> replaced_global_flags;  // own flags that replace a global one (profile's --threads)
};

struct Command {
  std::string name;
  std::string summary;
  std::function<AnyOptions()> make_options;  // the options struct with its defaults
  std::function<Outcome(const AnyOptions& options, const GlobalOptions& globals)> run;             // the CLI's
  std::function<nlohmann::json(const AnyOptions& options, const GlobalOptions& globals)> run_json;  // a step's
  CliSpec cli;
  std::vector<StepSpec> steps;  // empty: not a pipeline step (run, serve)
};

// The result's JSON and text, with an exit code.
template <class Result>
Outcome outcome_of(const Result& result, int exit_code = 0) {
  return Outcome{result.to_json(), result.to_text(), exit_code, true, ""};
}

namespace detail {
template <class T>
struct non_deduced {
  using type = T;
};
}  // namespace detail

// A command over a library function `Result fn(const Options&, const GlobalOptions&)`
// whose result has `to_json()` and `to_text()`. `outcome` maps the result to
// what the CLI prints and returns (default: exit 0).
template <class Options, class Result>
Command make_command(std::string name, std::string summary, Result (*fn)(const Options&, const GlobalOptions&),
                     typename detail::non_deduced<std::function<Outcome(const Result&)>>::type outcome = nullptr) {
  Command command;
  command.name = std::move(name);
  command.summary = std::move(summary);
  command.make_options = [] { return AnyOptions(Options{}); };
  command.run = [fn, outcome](const AnyOptions& options, const GlobalOptions& globals) {
    const Result result = fn(options.get<Options>(), globals);
    return outcome ? outcome(result) : outcome_of(result);
  };
  command.run_json = [fn](const AnyOptions& options, const GlobalOptions& globals) -> nlohmann::json {
    return fn(options.get<Options>(), globals).to_json();
  };
  return command;
}

// A step type named like the command, with its summary and artifact extension.
inline StepSpec step_of(const Command& command, std::string summary, std::string artifact_extension) {
  StepSpec step;
  step.name = command.name;
  step.summary = std::move(summary);
  step.artifact_extension = std::move(artifact_extension);
  return step;
}

}  // namespace mlopt::commands
