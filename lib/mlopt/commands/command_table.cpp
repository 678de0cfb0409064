#include "mlopt/commands/command_table.h"

namespace mlopt::commands {

// One file each (commands/<name>_command.cpp).
Command script_command();
Command trace_command();
Command export_onnx_command();
Command quantize_command();
Command prune_command();
Command verify_command();
Command distill_command();
Command profile_command();
Command run_command();
Command publish_command();
Command registry_command();
Command serve_command();
Command monitor_command();

const std::vector<Command>& command_table() {
  // The order of `mlopt --help`: from a model source to an artifact, then the
  // checks and measurements, then the pipeline that chains them, the model repository it publishes to,
  // then the server for what it made and the drift check of what it served.
  static const std::vector<Command> table = {
      script_command(), trace_command(),   export_onnx_command(), quantize_command(), prune_command(),
      verify_command(), distill_command(), profile_command(),     run_command(),      publish_command(),
      registry_command(), serve_command(), monitor_command(),
  };
  return table;
}

const Command* find_command(const std::string& name) {
  for (const auto& command : command_table())
    if (command.name == name) return &command;
  return nullptr;
}

}  // namespace mlopt::commands
