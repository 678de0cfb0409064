#pragma once
// Records the ATen ops a run executes through LibTorch's profiling hooks
// (RecordFunction, the mechanism torch.profiler is built on): name, start,
// duration, self time, nesting depth and FLOPs (from the real input and output
// shapes). Used for the per-op breakdown, the Chrome trace and the FLOP count.
// Torch-free header.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mlopt {

struct OpEvent {
  std::string name;       // "aten::conv2d"
  double start_us = 0;    // from the start of the recording
  double duration_us = 0;
  double self_us = 0;     // duration minus the ops nested inside
  int depth = 0;          // 0: called from the model itself
  int64_t flops = 0;      // this op's own FLOPs (0 for ops not counted, or nested in a counted op)
  std::string flop_category;  // conv | linear | matmul | attention
};

struct OpRecording {
  std::vector<OpEvent> events;
  int runs = 0;
};

// Runs `run_once` `runs` times with the op hooks on (thread-local: only ops on
// this thread are recorded, which is where the interpreters call them).
OpRecording record_ops(const std::function<void()>& run_once, int runs);

struct OpStat {
  std::string name;
  double calls_per_run = 0;
  double self_ms_per_run = 0;
  double total_ms_per_run = 0;
  double share = 0;  // of the summed self time
};

// Ops by self time, largest first; `top` of them (0: all).
std::vector<OpStat> op_breakdown(const OpRecording& recording, int top);
nlohmann::json op_stats_json(const std::vector<OpStat>& stats);

// The recording as a Chrome trace (chrome://tracing, Perfetto), written atomically.
void write_chrome_trace(const OpRecording& recording, const std::string& path);

}  // namespace mlopt
