#include "mlopt/core/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace mlopt {
namespace {

// A fixed table the signal handler can walk without allocating or locking.
constexpr int kSlots = 32;
constexpr size_t kPathMax = 4096;
struct Slot {
  std::atomic<bool> claimed{false};  // owned by a registering thread
  std::atomic<bool> ready{false};    // path complete: the handler may unlink it
  char path[kPathMax];
};
Slot g_slots[kSlots];

void on_signal(int sig) {
  for (auto& slot : g_slots)
    if (slot.ready.load()) unlink(slot.path);
  const char* msg = sig == SIGINT ? "\nmlopt: interrupted (SIGINT); no partial artifact was left\n"
                                  : "\nmlopt: terminated (SIGTERM); no partial artifact was left\n";
  ssize_t ignored = write(STDERR_FILENO, msg, std::strlen(msg));
  (void)ignored;
  _exit(128 + sig);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void register_temp_file(const std::string& path) {
  if (path.size() >= kPathMax) return;
  for (auto& slot : g_slots) {
    bool expected = false;
    if (slot.claimed.compare_exchange_strong(expected, true)) {
      std::memcpy(slot.path, path.c_str(), path.size() + 1);
      slot.ready.store(true);
      return;
    }
  }
}

void abort_run(const std::string& message, int exit_code) {
  for (auto& slot : g_slots)
    if (slot.ready.load()) unlink(slot.path);
  std::string line = "mlopt: error: " + message + "\n";
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
  _exit(exit_code);
}

void unregister_temp_file(const std::string& path) {
  for (auto& slot : g_slots)
    if (slot.ready.load() && path == slot.path) {
      slot.ready.store(false);
      slot.claimed.store(false);
    }
}

}  // namespace mlopt
