#pragma once
// Clean interruption: on SIGINT/SIGTERM, temporary files of writes still in
// flight are removed (the previous artifact at the target path stays intact),
// a one-line message is printed and the process exits with 130 (SIGINT) or
// 143 (SIGTERM).
#include <string>

namespace mlopt {

void install_interrupt_handlers();

// Temp files registered here are unlinked by the handler. Both calls are
// cheap; atomic_write uses them around every write.
void register_temp_file(const std::string& path);
void unregister_temp_file(const std::string& path);

// Ends the run from any thread as an interruption does (temp files removed),
// printing `message` as one line ("mlopt: error: ...") and exiting with
// `exit_code`. For watchdogs (memory budget) that cannot throw into the run.
[[noreturn]] void abort_run(const std::string& message, int exit_code);

}  // namespace mlopt
