#pragma once
// A wall-clock bound on a whole command (`--timeout SECONDS`). A TorchScript
// forward with `while True`, a Loop that never ends or a runaway computation
// cannot be interrupted from inside; a watchdog thread ends the process the
// way an interruption does (temporary files removed, one error line).
#include <string>

namespace mlopt {

// Starts the watchdog; `what` names the command in the message. Seconds <= 0: no bound.
void arm_deadline(double seconds, const std::string& what);

}  // namespace mlopt
