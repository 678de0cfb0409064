#include "mlopt/core/deadline.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <fmt/format.h>

#include "mlopt/core/error.h"
#include "mlopt/core/interrupt.h"

namespace mlopt {

void arm_deadline(double seconds, const std::string& what) {
  if (!(seconds > 0)) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const std::string message = fmt::format(
      "{} did not finish within --timeout {:g} s (a model that never returns, or a limit too low for this work)",
      what, seconds);
  std::thread([deadline, message] {
    // Nothing ever notifies: the wait ends at the deadline (spurious wake-ups
    // wait again). The process exits from here only if the command is still running.
    std::mutex mutex;
    std::condition_variable never;
    std::unique_lock<std::mutex> lock(mutex);
    while (never.wait_until(lock, deadline) != std::cv_status::timeout) {
    }
    abort_run(message, kExitError);
  }).detach();
}

}  // namespace mlopt
