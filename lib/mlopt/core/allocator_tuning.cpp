#include "mlopt/core/allocator_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mlopt {

void tune_allocator_for_steady_state() {
#if defined(__GLIBC__)
  constexpr int kMiB = 1024 * 1024;
  mallopt(M_TRIM_THRESHOLD, 256 * kMiB);
  mallopt(M_TOP_PAD, 64 * kMiB);
  mallopt(M_MMAP_THRESHOLD, 64 * kMiB);
#endif
}

}  // namespace mlopt
