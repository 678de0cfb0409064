#include "command_registry.h"

namespace mlopt::cli {
std::vector<Command>& commands() {
  static std::vector<Command> registry;
  return registry;
}
}  // namespace mlopt::cli
