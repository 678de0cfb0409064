#pragma once
// The one exception type for user-facing failures. It carries a one-line
// message (naming the file, field, line or op) and the process exit code.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace mlopt {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // bad input, failure
  kExitUsage = 2,        // command-line usage error
  kExitCheckFailed = 3,  // trace check, verify, pipeline gate
  kExitInterrupted = 130,
};

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message, int exit_code = kExitError, std::string detail = {})
      : std::runtime_error(std::move(message)), exit_code_(exit_code), detail_(std::move(detail)) {}
  int exit_code() const { return exit_code_; }
  // The original low-level text (a LibTorch message, say), shown with --verbose.
  const std::string& detail() const { return detail_; }

 private:
  int exit_code_;
  std::string detail_;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void fail_usage(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...), kExitUsage);
}

// The first line of a (possibly multi-line) LibTorch message, for one-line errors.
std::string first_line(const std::string& text);

// Runs `body`, rewriting c10::Error / std::exception into mlopt::Error with
// `context` ("loading model.pt") as prefix. Declared here, defined in
// error.cpp so that callers need no LibTorch header.
void rethrow_as_error(const std::string& context);

template <typename F>
auto with_context(const std::string& context, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (...) {
    rethrow_as_error(context);
  }
  throw Error(context);  // unreachable
}

}  // namespace mlopt
