#include "mlopt/core/progress.h"

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "mlopt/core/log.h"

namespace mlopt {
namespace {

constexpr int kBarWidth = 20;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

std::string bar(int64_t done, int64_t total) {
  int filled = total > 0 ? static_cast<int>(kBarWidth * std::min(done, total) / total) : kBarWidth;
  std::string hashes(filled, '#'), dashes(kBarWidth - filled, '-');
  return "[" + log::green(hashes) + dashes + "]";
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return fmt::format("{:.1f}s", seconds);
  auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      live_(log::stderr_is_tty() && log::level() >= log::Level::kNormal),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - kRedrawInterval) {}

Progress::~Progress() {
  // A loop left by an exception: end the live line so the error starts on its own line.
  if (live_ && drawn_ && !finished_) std::fputc('\n', stderr);
}

void Progress::update(int64_t done, const std::string& fields) {
  if (!live_) return;
  auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw(done, fields);
}

void Progress::draw(int64_t done, const std::string& fields) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : NAN;
  // \r + clear-to-end-of-line: the line shrinks cleanly when fields get shorter.
  fmt::print(stderr, "\r\033[K{} {} {}/{} {} ETA {}", log::bold(label_), bar(done, total_), done, total_, fields,
             format_duration(eta));
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish(const std::string& summary) {
  finished_ = true;
  if (log::level() < log::Level::kNormal) return;
  if (live_ && drawn_) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "{} {}\n", log::bold(label_), summary);
  std::fflush(stderr);
}

}  // namespace mlopt
