#pragma once
// The tuned-allocator figure of `profile`: the same model and configurations
// timed by a second `mlopt profile` process started with the glibc settings of
// core/allocator_tuning.h in its environment, exactly as a user would apply
// the recommendation. A child process, because glibc's dynamic thresholds
// cannot be put back once mallopt has set them, and a forked LibTorch process
// hangs in its first OpenMP region (libgomp is not fork-safe).
#include <string>
#include <vector>

#include "mlopt/profile/latency.h"

namespace mlopt {

struct TunedFigures {
  std::vector<LatencyStats> runs;  // in the order of the child's runs (batch-major, then threads)
  std::string not_measured;        // why there are none (empty when measured)
};

// The mlopt executable to start, or "" when this process is not the mlopt CLI
// (a library caller or the test binary: the tuned figure is then not measured).
std::string mlopt_executable();

// Runs `EXE profile ARGS... --json -q` with the tuning environment and reads its runs.
TunedFigures measure_with_tuned_allocator(const std::string& exe, const std::vector<std::string>& profile_args);

}  // namespace mlopt
