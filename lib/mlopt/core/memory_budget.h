#pragma once
// --max-memory for profile and verify: a budget on the process's resident
// memory. Two guards: estimates checked before allocating (model file, input
// batches), and a watchdog on the resident set for whatever the estimates
// miss (activations, workspace). setrlimit(RLIMIT_AS) would be cruder:
// LibTorch reserves far more address space than it touches.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "mlopt/core/input_spec.h"

namespace mlopt {

// "2G", "512M", "1.5GiB", "300MB", "1000000" (bytes). Units are binary
// (K = 1024). Empty or "0": no budget. Errors are usage errors naming `flag`.
uint64_t parse_memory_size(const std::string& text, const std::string& flag = "--max-memory");
std::string format_bytes(uint64_t bytes);  // "1.5 GiB"

// Resident memory of this process now (bytes; 0 where /proc is missing).
uint64_t resident_bytes();
// Peak resident memory (VmHWM) so far.
uint64_t peak_resident_bytes();

// Memory the system can still give this process (MemAvailable; 0 where /proc is missing).
uint64_t available_system_bytes();

// Hands the heap's free pages back to the system (glibc's malloc_trim): a
// loop that builds and drops model copies otherwise keeps their pages resident.
void release_free_heap();

// Bytes a set of input tensors takes (elements x dtype size), saturating.
uint64_t input_bytes(const std::vector<InputSpec>& specs);

class MemoryBudget {
 public:
  // limit 0: no budget (both calls below do nothing). The watchdog starts here.
  explicit MemoryBudget(uint64_t limit, std::string flag = "--max-memory");
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Refuses (mlopt::Error, exit 1) when `bytes` more than what the process
  // holds now would exceed the budget. `what` says what would be allocated.
  void reserve(uint64_t bytes, const std::string& what) const;
  uint64_t limit() const { return limit_; }

 private:
  uint64_t limit_;
  std::string flag_;
  std::atomic<bool> stop_{false};
  std::thread watchdog_;
};

}  // namespace mlopt
