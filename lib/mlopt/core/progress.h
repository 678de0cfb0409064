#pragma once
// A small progress display for long loops (training epochs, calibration,
// benchmarks). On a TTY it redraws one live line on stderr:
//
//   epoch 3/10 [##########----------] 12/24 loss 0.412 acc 91.2% 5210 samples/s ETA 2s
//
// Elsewhere (CI logs, pipes) it stays silent while running and prints one
// plain line when finished. Nothing at all with --quiet. Colour follows
// log::use_colour() (off without a TTY or with NO_COLOR).
#include <chrono>
#include <cstdint>
#include <string>

namespace mlopt {

class Progress {
 public:
  // `label` names the loop ("epoch 3/10"); `total` steps make up the loop.
  Progress(std::string label, int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` steps are finished; `fields` is the live text ("loss 0.41 acc 91%").
  // Redraws at most ~10 times a second.
  void update(int64_t done, const std::string& fields);
  // Ends the loop with its summary line (replaces the live line on a TTY).
  void finish(const std::string& summary);

  // Whether a live line is drawn (stderr is a TTY and the log level is not quiet).
  bool live() const { return live_; }

 private:
  void draw(int64_t done, const std::string& fields);
  std::string label_;
  int64_t total_;
  bool live_;
  bool finished_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1m05s", "12s", "0.4s": compact durations for progress and reports.
std::string format_duration(double seconds);

}  // namespace mlopt
