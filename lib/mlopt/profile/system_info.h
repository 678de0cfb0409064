#pragma once
// What the machine and process say about themselves: CPU model, resident
// memory (current and peak, with a peak reset where Linux allows it).
#include <cstdint>
#include <string>

namespace mlopt {

std::string cpu_model();
int64_t current_rss_bytes();
int64_t peak_rss_bytes();
// Resets the peak (VmHWM) to the current RSS; false where the kernel refuses.
bool reset_peak_rss();

}  // namespace mlopt
