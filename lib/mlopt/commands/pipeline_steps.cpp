// The pipeline's step types, one for each StepSpec of the command table: the
// pipeline knows no command by name.
#include "mlopt/commands/command_table.h"
#include "mlopt/pipeline/step_registry.h"

namespace mlopt::commands {
namespace {

pipeline::StepType step_type(const Command& command, const StepSpec& spec) {
  auto type = pipeline::options_step(spec.name, spec.summary, spec.artifact_extension, command.make_options,
                                     command.run_json);
  type.primary_model_key = spec.primary_model_key;
  type.model_option_keys = spec.model_option_keys;
  type.metrics = spec.metrics;
  type.reference_metrics = spec.reference_metrics;
  type.failure = spec.failure;
  return type;
}

bool register_command_steps() {
  for (const auto& command : command_table())
    for (const auto& spec : command.steps) pipeline::step_types().add(spec.name, step_type(command, spec));
  return true;
}

const bool registered = register_command_steps();

}  // namespace
}  // namespace mlopt::commands
