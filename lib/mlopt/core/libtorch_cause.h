#pragma once
#include <string>

namespace mlopt {

// The line of a LibTorch error message that says what is wrong: its first line,
// or for "The following operation failed in the TorchScript interpreter." the
// cause at the end of the traceback ("Given groups=1, ... but got 3 channels").
std::string libtorch_cause(const std::string& message);

}  // namespace mlopt
