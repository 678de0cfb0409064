#pragma once
// Every mlopt command, in the order `mlopt --help` lists them. Adding a
// command: one file commands/<name>_command.cpp that returns its Command
// (see command.h), and one line in command_table.cpp at its place in --help.
#include <string>
#include <vector>

#include "mlopt/commands/command.h"

namespace mlopt::commands {

const std::vector<Command>& command_table();
// nullptr when no command has this name.
const Command* find_command(const std::string& name);

}  // namespace mlopt::commands
