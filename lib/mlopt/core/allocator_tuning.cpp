#include "mlopt/core/allocator_tuning.h"

#include <atomic>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mlopt {
namespace {

constexpr int kMiB = 1024 * 1024;
constexpr int kTrimThreshold = 256 * kMiB;
constexpr int kTopPad = 64 * kMiB;
constexpr int kMmapThreshold = 64 * kMiB;

std::atomic<bool> tuned{false};

}  // namespace

void tune_allocator_for_steady_state() {
#if defined(__GLIBC__)
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
  mallopt(M_TOP_PAD, kTopPad);
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
#endif
  tuned = true;
}

bool allocator_tuned() { return tuned; }

std::vector<std::pair<std::string, std::string>> allocator_tuning_env() {
  return {{"MALLOC_TRIM_THRESHOLD_", std::to_string(kTrimThreshold)},
          {"MALLOC_TOP_PAD_", std::to_string(kTopPad)},
          {"MALLOC_MMAP_THRESHOLD_", std::to_string(kMmapThreshold)}};
}

std::string allocator_tuning_env_text() {
  std::string out;
  for (const auto& [name, value] : allocator_tuning_env()) out += (out.empty() ? "" : " ") + name + "=" + value;
  return out;
}

}  // namespace mlopt
