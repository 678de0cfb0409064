#include "mlopt/core/libtorch_cause.h"

#include "mlopt/core/error.h"

namespace mlopt {

std::string libtorch_cause(const std::string& message) {
  // The loader's messages start with a blank line ("\nUnknown builtin op: torchvision::nms.\n...").
  size_t text = message.find_first_not_of(" \t\r\n");
  std::string head = text == std::string::npos ? "" : first_line(message.substr(text));
  // The interpreter's first line only says that something failed; the cause is
  // the last "<Kind>Error: ..." line after the TorchScript traceback.
  if (head.find("failed in the TorchScript interpreter") == std::string::npos &&
      message.find("Traceback of TorchScript") == std::string::npos)
    return head;
  std::string cause;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    std::string line = message.substr(start, end - start);
    auto colon = line.find("Error: ");
    if (colon != std::string::npos && line[0] != ' ' && line.find(' ') > colon) cause = line.substr(colon + 7);
    start = end + 1;
  }
  return cause.empty() ? head : first_line(cause);
}

}  // namespace mlopt
