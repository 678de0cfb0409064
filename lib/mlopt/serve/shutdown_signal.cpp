#include "mlopt/serve/shutdown_signal.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

namespace mlopt::serving {
namespace {

int g_pipe[2] = {-1, -1};

void on_signal(int sig) {
  const char byte = static_cast<char>(sig);
  ssize_t ignored = write(g_pipe[1], &byte, 1);  // async-signal-safe
  (void)ignored;
}

}  // namespace

void catch_shutdown_signals() {
  if (g_pipe[0] < 0 && pipe(g_pipe) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
}

int wait_for_shutdown() {
  char byte = 0;
  while (read(g_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  return static_cast<unsigned char>(byte);
}

void notify_shutdown() {
  const char byte = 0;
  ssize_t ignored = write(g_pipe[1], &byte, 1);
  (void)ignored;
}

}  // namespace mlopt::serving
