#include "mlopt/core/memory_budget.h"

#include <malloc.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "mlopt/core/error.h"
#include "mlopt/core/interrupt.h"
#include "mlopt/core/npy.h"
#include "mlopt/core/saturating_count.h"

namespace mlopt {

uint64_t parse_memory_size(const std::string& text, const std::string& flag) {
  if (text.empty()) return 0;
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    fail_usage("{} '{}': expected a size such as 2G, 512M or 1073741824", flag, text);
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();  // "MB", "GB"
  if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();  // "MiB", "GiB"
  double scale = 1;
  if (unit == "K") scale = 1024.0;
  else if (unit == "M") scale = 1024.0 * 1024;
  else if (unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "B") fail_usage("{} '{}': unknown unit '{}' (use K, M, G or T)", flag, text, text.substr(used));
  double bytes = value * scale;
  if (!std::isfinite(bytes) || bytes < 0 || bytes > 1e18) fail_usage("{} '{}': expected a size from 0 to 1000P", flag, text);
  return static_cast<uint64_t>(bytes);
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} bytes", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

uint64_t resident_bytes() {
  // /proc/self/statm: size resident shared ... in pages.
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

namespace {

// The bytes of a "Name: N kB" line of a /proc file (`line_format` scans it); 0 when absent.
uint64_t proc_kilobytes(const char* path, const char* line_format) {
  FILE* f = std::fopen(path, "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, line_format, &kb) == 1) break;
  std::fclose(f);
  return kb * 1024;
}

}  // namespace

// VmHWM catches a peak between two polls (a large temporary freed at once).
uint64_t peak_resident_bytes() { return proc_kilobytes("/proc/self/status", "VmHWM: %llu kB"); }

uint64_t available_system_bytes() { return proc_kilobytes("/proc/meminfo", "MemAvailable: %llu kB"); }

void release_free_heap() { malloc_trim(0); }

uint64_t input_bytes(const std::vector<InputSpec>& specs) {
  uint64_t total = 0;
  for (const auto& s : specs) {
    uint64_t item = is_known_dtype(s.dtype) ? dtype_item_size(s.dtype) : 4;
    total = saturating_add(total, saturating_mul(item, static_cast<uint64_t>(s.numel())));
  }
  return total;
}

MemoryBudget::MemoryBudget(uint64_t limit, std::string flag) : limit_(limit), flag_(std::move(flag)) {
  if (limit_ == 0) return;
  if (uint64_t now = resident_bytes(); now > limit_)
    fail("{} {}: the process already holds {} before loading anything", flag_, format_bytes(limit_), format_bytes(now));
  // An earlier peak (a previous pipeline step) is not this run's: reset it
  // where the kernel allows, else watch the current resident set only.
  if (peak_resident_bytes() > limit_) {
    if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
      std::fputs("5", f);
      std::fclose(f);
    }
  }
  bool use_peak = peak_resident_bytes() <= limit_;
  watchdog_ = std::thread([this, use_peak] {
    // Polling every 5 ms: an allocation that outruns it is caught on its first
    // touch of pages, a few milliseconds and at most one large tensor later.
    while (!stop_.load()) {
      uint64_t now = use_peak ? std::max(resident_bytes(), peak_resident_bytes()) : resident_bytes();
      if (now > limit_)
        abort_run(fmt::format("{} {}: the run's resident memory reached {}; stopped (raise the budget, or use a "
                              "smaller batch or input shape)",
                              flag_, format_bytes(limit_), format_bytes(now)),
                  kExitError);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

MemoryBudget::~MemoryBudget() {
  stop_.store(true);
  if (watchdog_.joinable()) watchdog_.join();
}

void MemoryBudget::reserve(uint64_t bytes, const std::string& what) const {
  if (limit_ == 0) return;
  uint64_t now = resident_bytes();
  if (bytes > limit_ || now > limit_ - bytes)
    fail("{} {}: {} would take about {} on top of the {} already in use; refusing before allocating", flag_,
         format_bytes(limit_), what, format_bytes(bytes), format_bytes(now));
}

}  // namespace mlopt
