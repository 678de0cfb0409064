#pragma once
// Where `profile` takes its latency figures: in fresh `mlopt profile
// --latency-only` processes, one with this process's environment (the default
// figure) and one with the recommended settings added (the glibc ones of
// core/allocator_tuning.h, and the engine's of runtime/quantized_engine.h): the
// tuned figure, exactly as a user would apply the recommendation.
//
// A fresh process, because a latency that depends on glibc's heap (activations
// handed back to the kernel and faulted in again on the next call) depends on
// the heap's history: the loading, FLOP counting and op recording this process
// did before timing would shape it differently from a user's process that
// loads the model and calls it. glibc's dynamic thresholds cannot be put back
// once set, and a forked LibTorch process hangs in its first OpenMP region
// (libgomp is not fork-safe), so the child is started with posix_spawn.
#include <string>
#include <utility>
#include <vector>

#include "mlopt/profile/latency.h"

namespace mlopt {

// Environment variables (name, value) a child starts with on top of this
// process's environment; none: the default figure.
using EnvSettings = std::vector<std::pair<std::string, std::string>>;

// "MALLOC_TOP_PAD_=67108864 OMP_WAIT_POLICY=PASSIVE"
std::string env_settings_text(const EnvSettings& settings);

struct ChildTimings {
  std::vector<LatencyStats> runs;  // in the order of the child's runs (batch-major, then threads)
  std::string not_measured;        // why there are none (empty when measured)
};

// The mlopt executable to start, or "" when this process is not the mlopt CLI
// (a library caller or the test binary: the figures are then taken in this process).
std::string mlopt_executable();

// Runs `EXE profile ARGS... --latency-only --json -q`, with `settings` added to
// its environment, and reads its runs.
ChildTimings time_in_child_process(const std::string& exe, const std::vector<std::string>& profile_args,
                                   const EnvSettings& settings);

}  // namespace mlopt
