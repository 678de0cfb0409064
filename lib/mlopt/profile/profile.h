#pragma once
// `mlopt profile MODEL`: latency, throughput, memory, FLOPs and a per-op
// breakdown of an artifact as its users will run it. Torch-free header.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlopt/core/options.h"
#include "mlopt/profile/ab_timing.h"
#include "mlopt/profile/flops.h"
#include "mlopt/profile/latency.h"
#include "mlopt/profile/op_recorder.h"
#include "mlopt/script/model_source.h"

namespace mlopt {

struct ProfileOptions {
  std::string model;
  ModelSource python;
  std::vector<std::string> input;  // input specs (default: what the artifact declares)
  std::vector<int64_t> batch;      // sizes for the dynamic dims (default: the spec's example)
  std::vector<int64_t> threads;    // intra-op thread counts to measure (default: the global --threads)
  int warmup = 10;
  int iters = 0;                   // > 0: exactly this many timed runs
  double min_time = 1.0;           // otherwise: run for at least this many seconds
  int processes = 3;               // fresh processes the default figure is taken in (the median one reported)
  bool ops = false;                // per-op breakdown
  int top = 15;
  std::string trace;               // Chrome trace file (.json)
  std::string compare;             // a second artifact profiled the same way
  std::string max_memory;          // resident memory budget ("2G"; empty: none), core/memory_budget.h
  double max_cv = 0.05;            // warn above this coefficient of variation
  bool no_tuned_figure = false;    // skip the tuned-allocator figure (a second process)
  bool latency_only = false;       // time in this process only: no FLOPs, op breakdown or memory figures


  template <class V>
  void visit(V& v) {
    v.positional("model", model, "Artifact to profile: .pt, .ptl, .onnx (reference evaluator) or .py");
    python.visit_python_fields(v);
    v.option("input", input, "Input spec NAME:SHAPE[:DTYPE], e.g. x:batch=1x3x32x32 (repeatable)");
    v.option("batch", batch, "Batch sizes (sizes of the dynamic dims), e.g. 1,8,32");
    v.option("threads", threads, "Intra-op thread counts to measure, e.g. 1,2 (default: --threads or all cores)");
    v.option("warmup", warmup, "Untimed runs before measuring");
    v.option("iters", iters, "Timed runs (0: run for --min-time)");
    v.option("min-time", min_time, "Seconds of timed runs per configuration when --iters is 0");
    v.option("processes", processes,
             "Fresh processes the default figure is taken in, each for 1/N of --min-time (or --iters runs): the median "
             "one is reported, the others' p50 beside it (a default process's latency turns on its heap layout)");
    v.flag("ops", ops, "Per-op breakdown: the top ATen ops by self time");
    v.option("top", top, "Ops listed with --ops");
    v.written_file("trace", trace, "Write a Chrome trace (.json) of one profiled run");
    v.option("compare", compare, "A second artifact, profiled the same way, with B/A ratios");
    v.option("max-memory", max_memory, "Memory budget, e.g. 2G: refuse inputs that would exceed it, stop a run that does");
    v.option("max-cv", max_cv, "Warn when the coefficient of variation exceeds this");
    v.flag("no-tuned-figure", no_tuned_figure,
           "Skip the second process that times the model with the recommended glibc malloc settings");
    v.flag("latency-only", latency_only,
           "Time the model in this process and nothing else (no FLOPs, --ops or memory figures): what the "
           "fresh processes that take profile's figures run");
  }
};

// One (batch, threads) configuration.
struct ProfileRun {
  int64_t batch = 1;
  int threads = 1;
  std::string shapes;         // "x:8x16"
  LatencyStats latency;
  double throughput = 0;      // samples per second (batch / mean latency)
  int64_t flops = 0;          // per run at this batch
  double gflops_per_s = 0;    // achieved, at the p50 latency
  bool noisy = false;         // cv above --max-cv
  // The same configuration in a process started with the recommended allocator
  // settings (core/allocator_tuning.h); `latency` is the default process's.
  bool has_tuned = false;
  LatencyStats tuned;
  // p50 of each fresh process the default figure was taken in (`latency` is the
  // median one's); empty when timed in this process.
  std::vector<double> process_p50_ms;
};

// The warning when the fresh default processes a run was timed in disagree by
// more than 10% on p50 ("" otherwise): the user's own process may see any of them.
std::string process_spread_warning(const ProfileRun& run, const std::string& path);

struct ModelProfile {
  std::string path;
  std::string engine;         // torchscript | torchscript-lite | onnx-reference-evaluator
  bool reference_path = false;  // the ONNX evaluator: a correctness path, not a runtime
  std::string precision;
  std::string quantized_engine;   // the int8 kernels it ran: onednn | qnnpack (its mlopt.json), else ""
  int64_t file_size = 0;
  int64_t parameter_count = 0;
  int64_t parameter_bytes = 0;
  int64_t peak_rss_bytes = 0;     // peak resident memory while this model ran
  int64_t rss_before_bytes = 0;   // resident memory before its first run
  bool peak_reset = false;        // the peak was reset before the run (else: process peak)
  FlopCount flops;                // at the first configuration
  std::vector<ProfileRun> runs;
  std::vector<OpStat> ops;
  std::vector<std::string> warnings;
  // "default": `runs[].latency` were timed with glibc's default allocator
  // settings, as in a user's own process; "tuned": this process had already
  // tuned its allocator (a library caller), so they are the tuned figures.
  std::string allocator = "default";
  // "fresh process": runs[].latency come from a fresh `mlopt profile --latency-only`
  // process (profile/child_timing.h); "this process": timed here (a library
  // caller, --latency-only, or the fresh process could not be started).
  std::string timed_in = "this process";
  int processes = 0;  // how many fresh processes (the median one's figures are runs[].latency)
  std::string tuned_not_measured;  // why runs[].tuned is missing
  // The environment runs[].tuned were timed with: the allocator settings, and
  // OMP_WAIT_POLICY=PASSIVE for a QNNPACK model on several threads
  // (runtime/quantized_engine.h). "MALLOC_TRIM_THRESHOLD_=... ..."
  std::string tuned_settings;
  nlohmann::json to_json() const;
};

struct ProfileResult {
  ModelProfile a;
  std::optional<ModelProfile> b;
  // --compare: A and B timed interleaved in this process, one per
  // configuration (a.runs[i]); the B/A latency ratios and their noise verdicts
  // come from here, not from the two models' own runs.
  std::vector<AbComparison> ab;
  std::string cpu_model;
  int cores = 0;
  std::string libtorch_version;
  std::string allocator_settings;  // the recommended environment, "MALLOC_TRIM_THRESHOLD_=... ..."
  std::vector<std::string> warnings;
  nlohmann::json to_json() const;
  std::string to_text() const;
};

// Checks the option values alone (ranges, required combinations), before any file is read;
// the pipeline calls it when it binds a step, so --dry-run catches what the run would refuse.
void check_options(const ProfileOptions& options);

ProfileResult profile(const ProfileOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
