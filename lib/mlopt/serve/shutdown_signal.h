#pragma once
// SIGTERM/SIGINT as an event serve() waits for (a self-pipe), instead of the
// immediate exit core/interrupt.h gives every other command: a server drains.
namespace mlopt::serving {

// Replaces the SIGTERM/SIGINT handlers; call once before waiting.
void catch_shutdown_signals();
// Blocks until one arrives (or notify_shutdown() is called); returns the signal (0 for notify).
int wait_for_shutdown();
// Wakes wait_for_shutdown() from a thread (the HTTP server stopped on its own).
void notify_shutdown();

}  // namespace mlopt::serving
