#include "mlopt/core/written_paths.h"
#include "mlopt/profile/profile.h"

#include "mlopt/core/allocator_tuning.h"

#include <ATen/Parallel.h>
#include <algorithm>
#include <torch/script.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/memory_budget.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/version.h"
#include "mlopt/onnx/eval/tensor_limits.h"
#include "mlopt/profile/system_info.h"
#include "mlopt/profile/child_timing.h"
#include "mlopt/runtime/input_cases.h"
#include "mlopt/runtime/quantized_engine.h"
#include "mlopt/runtime/runner.h"
#include "mlopt/runtime/thread_count.h"

namespace mlopt {
void check_options(const ProfileOptions& o) {
  for (auto b : o.batch)
    if (b < 1) fail_usage("--batch {}: expected sizes of 1 or more", b);
  for (auto t : o.threads)
    if (t < 1 || t > 4096) fail_usage("--threads {}: expected thread counts of 1 or more", t);
  if (o.warmup < 0) fail_usage("--warmup {}: expected 0 or more", o.warmup);
  if (o.iters < 0) fail_usage("--iters {}: expected 1 or more (0: use --min-time)", o.iters);
  if (o.iters == 0 && !(o.min_time > 0)) fail_usage("--min-time {}: expected a positive number of seconds", o.min_time);
  if (o.top < 1) fail_usage("--top {}: expected 1 or more", o.top);
}

namespace {


// Which dim of a spec is the batch: the dim named like a batch ("batch", "b",
// "n", "N", "bs"), else the first dim. Other dynamic dims (a sequence length,
// say) keep their example sizes: profiling at batch 8 must not also change the
// sequence length to 8.
size_t batch_dim_index(const InputSpec& s) {
  for (size_t i = 0; i < s.dims.size(); ++i) {
    const auto& n = s.dims[i].name;
    if (n == "batch" || n == "b" || n == "n" || n == "N" || n == "bs" || n == "batch_size") return i;
  }
  return 0;
}

std::vector<InputSpec> specs_at_batch(const std::vector<InputSpec>& specs, int64_t batch) {
  std::vector<InputSpec> out;
  for (const auto& s : specs) {
    InputSpec c = s;
    if (!c.dims.empty()) c.dims[batch_dim_index(c)].size = batch;
    out.push_back(c);
  }
  return out;
}

int64_t example_batch(const std::vector<InputSpec>& specs) {
  if (specs.empty() || specs[0].dims.empty()) return 1;
  return specs[0].dims[batch_dim_index(specs[0])].size;
}

LatencyOptions latency_options(const ProfileOptions& o) {
  LatencyOptions l;
  l.warmup = o.warmup;
  l.iters = o.iters;
  l.min_time_s = o.min_time;
  return l;
}

// Fresh default processes whose p50s lie more than this far apart (max / min - 1).
constexpr double kProcessSpreadLimit = 0.10;

}  // namespace

// A default process's latency can turn on where glibc's allocator put its heap
// (a small conv net on 2 cores: 2.2 to 24 ms p50 in default Python, LibTorch and
// mlopt processes alike, 2.2 ms in every tuned one), so the median process is
// one figure among several a user's process may see: say so when they differ.
std::string process_spread_warning(const ProfileRun& run, const std::string& path) {
  if (run.process_p50_ms.size() < 2) return {};
  auto [lo, hi] = std::minmax_element(run.process_p50_ms.begin(), run.process_p50_ms.end());
  if (!(*lo > 0) || *hi / *lo - 1 <= kProcessSpreadLimit) return {};
  return fmt::format("{} at {} with {} thread(s): the fresh default processes disagree (p50 {:.3f} to {:.3f} ms, "
                     "{:.0f}% apart): a default process's latency for this model turns on how glibc laid out its "
                     "heap, so your own process may see either; the recommended allocator settings keep freed "
                     "memory in the process",
                     path, run.shapes, run.threads, *lo, *hi, 100 * (*hi / *lo - 1));
}

namespace {

// The figures that follow from a run's latency, and the noise warnings.
void derive_from_latency(ProfileRun& run, const std::string& path, const ProfileOptions& o,
                         std::vector<std::string>& warnings) {
  run.throughput = run.latency.mean_ms > 0 ? static_cast<double>(run.batch) * 1000.0 / run.latency.mean_ms : 0;
  run.gflops_per_s = run.latency.p50_ms > 0 ? static_cast<double>(run.flops) / (run.latency.p50_ms / 1000.0) / 1e9 : 0;
  run.noisy = run.latency.cv > o.max_cv;
  if (run.noisy)
    warnings.push_back(fmt::format("{} at {} with {} thread(s): coefficient of variation {:.1f}% exceeds {:.0f}%; "
                                   "the figures are noisy (busy machine? try --min-time 5)",
                                   path, run.shapes, run.threads, 100 * run.latency.cv, 100 * o.max_cv));
  if (auto w = process_spread_warning(run, path); !w.empty()) warnings.push_back(w);
}

// Times every configuration of m.runs in this process.
void time_runs_here(ModelProfile& m, Runner& runner, const std::vector<InputSpec>& specs, const ProfileOptions& o,
                    const GlobalOptions& g) {
  torch::jit::Module* module = runner.torchscript_module();
  for (auto& run : m.runs) {
    auto inputs = random_inputs(specs_at_batch(specs, run.batch), g.seed);
    at::set_num_threads(run.threads);
    log::info("profiling {} at {} with {} thread(s)", m.path, run.shapes, run.threads);
    // .pt: time module.forward directly, as a user calls it.
    run.latency = module ? measure_module_latency(*module, inputs, latency_options(o))
                         : measure_latency([&] { runner.run(inputs); }, latency_options(o));
  }
}

// The arguments that make a second `mlopt profile` time the same configurations.
std::vector<std::string> child_profile_args(const std::string& path, const ProfileOptions& o, const GlobalOptions& g,
                                            const ModelProfile& m) {
  std::vector<std::string> args = {path, fmt::format("--seed={}", g.seed),
                                   fmt::format("--warmup={}", o.warmup)};
  args.push_back(o.iters > 0 ? fmt::format("--iters={}", o.iters) : fmt::format("--min-time={}", o.min_time));
  for (const auto& spec : o.input) args.push_back("--input=" + spec);
  std::vector<int64_t> batches, threads;
  for (const auto& r : m.runs) {
    if (std::find(batches.begin(), batches.end(), r.batch) == batches.end()) batches.push_back(r.batch);
    if (std::find(threads.begin(), threads.end(), r.threads) == threads.end()) threads.push_back(r.threads);
  }
  for (auto b : batches) args.push_back(fmt::format("--batch={}", b));
  for (auto t : threads) args.push_back(fmt::format("--threads={}", t));
  if (!o.python.class_name.empty()) args.push_back("--class=" + o.python.class_name);
  for (const auto& i : o.python.init) args.push_back("--init=" + i);
  if (!o.python.weights.empty()) args.push_back("--weights=" + o.python.weights);
  if (!o.max_memory.empty()) args.push_back("--max-memory=" + o.max_memory);
  return args;
}

// m's configurations timed in a fresh process (profile/child_timing.h): one
// figure per run of m, or why not.
ChildTimings time_configurations_in_child(const ModelProfile& m, const std::string& exe, const ProfileOptions& o,
                                          const GlobalOptions& g, const EnvSettings& settings = {}) {
  ChildTimings t = time_in_child_process(exe, child_profile_args(m.path, o, g, m), settings);
  if (t.not_measured.empty() && t.runs.size() != m.runs.size())
    t.not_measured = fmt::format("the {} run measured other configurations", settings.empty() ? "timing" : "tuned");
  return t;
}

// The share of the timing one of `processes` fresh processes takes: its part
// of --min-time (--iters: each process times that many runs).
ProfileOptions one_process_share(const ProfileOptions& o, int processes) {
  ProfileOptions share = o;
  share.min_time = o.min_time / processes;
  return share;
}

// Times every configuration of m.runs in o.processes fresh processes
// (profile/child_timing.h) and keeps, per configuration, the process with the
// median p50: one process's figure turns on how glibc laid out its heap (the
// same archive takes 11 ms in one default process, 23 ms in the next), so one
// process is one draw. "" when timed; otherwise why not.
std::string time_runs_in_fresh_process(ModelProfile& m, const std::string& exe, const ProfileOptions& o,
                                       const GlobalOptions& g) {
  const int processes = std::max(1, o.processes);
  log::info("profiling {} in {} fresh process(es)", m.path, processes);
  auto share = one_process_share(o, processes);
  std::vector<ChildTimings> timings;
  for (int k = 0; k < processes; ++k) {
    timings.push_back(time_configurations_in_child(m, exe, share, g));
    if (!timings.back().not_measured.empty()) return timings.back().not_measured;
  }
  for (size_t i = 0; i < m.runs.size(); ++i) {
    std::vector<const LatencyStats*> draws;
    for (const auto& t : timings) draws.push_back(&t.runs[i]);
    auto& run = m.runs[i];
    for (const auto* d : draws) run.process_p50_ms.push_back(d->p50_ms);
    std::sort(draws.begin(), draws.end(), [](const auto* a, const auto* b) { return a->p50_ms < b->p50_ms; });
    run.latency = *draws[(draws.size() - 1) / 2];
  }
  m.timed_in = "fresh process";
  m.processes = processes;
  return {};
}

ModelProfile profile_model(const std::string& path, const ProfileOptions& o, const GlobalOptions& g,
                           const MemoryBudget& budget) {
  ModelProfile m;
  m.path = path;
  if (file_exists(path)) budget.reserve(static_cast<uint64_t>(file_size(path)), fmt::format("loading '{}'", path));
  ModelSource python = o.python;
  python.seed = g.seed;  // a .py model initializes its parameters from --seed, as `mlopt script` does
  auto runner = load_runner(path, python);
  m.engine = runner->engine();
  m.reference_path = m.engine == "onnx-reference-evaluator";
  m.precision = runner->precision();
  m.quantized_engine = runner->quantized_engine();
  m.file_size = file_size(path);
  m.parameter_count = runner->parameter_count();
  m.parameter_bytes = runner->parameter_bytes();
  auto specs = o.input.empty() ? runner->declared_inputs() : parse_input_specs(o.input);
  if (specs.empty()) fail("'{}' declares no inputs: give --input NAME:SHAPE[:DTYPE] (e.g. x:batch=1x3x32x32)", path);
  std::vector<int64_t> batches = o.batch.empty() ? std::vector<int64_t>{example_batch(specs)} : o.batch;
  for (auto b : batches)
    budget.reserve(input_bytes(specs_at_batch(specs, b)), fmt::format("the inputs at batch {}", b));
  std::vector<int64_t> threads = o.threads;
  if (threads.empty()) threads.push_back(g.threads > 0 ? g.threads : available_cores());
  if (m.reference_path)
    m.warnings.push_back(fmt::format("{}: timed through the built-in ONNX evaluator, a reference path; "
                                     "an ONNX runtime will be faster", path));
  if (allocator_tuned()) {
    m.allocator = "tuned";
    m.warnings.push_back(fmt::format("{}: this process tuned its allocator before profiling; the figures are the "
                                     "tuned ones, not a default process's", path));
  }
  m.rss_before_bytes = current_rss_bytes();
  m.peak_reset = reset_peak_rss();
  ThreadCountScope restore_threads;
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    auto shaped = specs_at_batch(specs, batches[bi]);
    auto inputs = random_inputs(shaped, g.seed);
    auto run_once = [&] { runner->run(inputs); };
    at::set_num_threads(static_cast<int>(threads[0]));
    auto* module = runner->torchscript_module();
    FlopCount flops = o.latency_only ? FlopCount{}
                      : module       ? count_module_flops(*module, inputs)
                                     : count_flops(run_once);
    if (bi == 0) m.flops = flops;
    for (auto t : threads) {
      ProfileRun run;
      run.batch = batches[bi];
      run.threads = static_cast<int>(t);
      run.shapes = shape_label(shaped, inputs);
      run.flops = flops.total;
      m.runs.push_back(std::move(run));
    }
    if (bi == 0 && (o.ops || !o.trace.empty()) && !o.latency_only) {
      int runs = o.iters > 0 ? std::min(o.iters, 20) : 10;
      auto recording = record_ops(run_once, runs);
      m.ops = op_breakdown(recording, o.top);
      if (!o.trace.empty() && path == o.model) write_chrome_trace(recording, o.trace);
    }
  }
  m.peak_rss_bytes = peak_rss_bytes();
  // The latencies: in a fresh process when this is the mlopt CLI (a user's
  // process has no history of FLOP counting and op recording), else here.
  const std::string exe = o.latency_only || m.allocator == "tuned" ? "" : mlopt_executable();
  std::string why_here = exe.empty() ? "" : time_runs_in_fresh_process(m, exe, o, g);
  if (exe.empty() || !why_here.empty()) {
    if (!why_here.empty())
      m.warnings.push_back(fmt::format("{}: timed in this process (the fresh timing process failed: {})", path, why_here));
    time_runs_here(m, *runner, specs, o, g);
  }
  for (auto& run : m.runs) derive_from_latency(run, path, o, m.warnings);
  return m;
}

// A and B interleaved in one process, at each configuration (batch, threads) of `runs`.
std::vector<AbComparison> compare_interleaved(const ProfileOptions& o, const GlobalOptions& g,
                                              const std::vector<ProfileRun>& runs) {
  ModelSource python = o.python;
  python.seed = g.seed;
  auto a = load_runner(o.model, python);
  auto b = load_runner(o.compare, python);
  auto specs = o.input.empty() ? a->declared_inputs() : parse_input_specs(o.input);
  ThreadCountScope restore_threads;
  AbOptions ab;
  ab.warmup = std::min(o.warmup, 5);
  ab.max_noise = o.max_cv;
  torch::NoGradGuard no_grad;
  std::vector<AbComparison> out;
  for (const auto& run : runs) {
    auto inputs = random_inputs(specs_at_batch(specs, run.batch), g.seed);
    at::set_num_threads(run.threads);
    log::info("timing {} and {} interleaved at {} with {} thread(s)", o.model, o.compare, run.shapes, run.threads);
    out.push_back(time_interleaved([&] { a->run(inputs); }, [&] { b->run(inputs); }, ab));
  }
  return out;
}

// What m's own process should start with: the allocator settings, and its
// quantized engine's (runtime/quantized_engine.h) at the most threads it ran on.
EnvSettings recommended_settings(const ModelProfile& m) {
  EnvSettings settings = allocator_tuning_env();
  int threads = 1;
  for (const auto& r : m.runs) threads = std::max(threads, r.threads);
  for (auto& s : engine_tuning_env(m.quantized_engine, threads)) settings.push_back(std::move(s));
  return settings;
}

// Times m's configurations again in a process with the recommended settings.
void add_tuned_figures(ModelProfile& m, const ProfileOptions& o, const GlobalOptions& g) {
  if (o.no_tuned_figure || o.latency_only) {
    m.tuned_not_measured = o.latency_only ? "--latency-only" : "--no-tuned-figure";
    return;
  }
  const std::string exe = mlopt_executable();
  if (exe.empty()) {
    m.tuned_not_measured = "not run from the mlopt command line";
    return;
  }
  EnvSettings settings = recommended_settings(m);
  m.tuned_settings = env_settings_text(settings);
  log::info("profiling {} again in a process started with {}", m.path, m.tuned_settings);
  ChildTimings t = time_configurations_in_child(m, exe, o, g, settings);
  m.tuned_not_measured = t.not_measured;
  if (!t.not_measured.empty()) return;
  for (size_t i = 0; i < m.runs.size(); ++i) {
    m.runs[i].tuned = t.runs[i];
    m.runs[i].has_tuned = true;
  }
}

}  // namespace

ProfileResult profile(const ProfileOptions& o, const GlobalOptions& g) {
  check_written_paths(o);
  check_options(o);
  ProfileResult r;
  r.cpu_model = cpu_model();
  r.cores = available_cores();
  r.libtorch_version = libtorch_version();
  MemoryBudget budget(parse_memory_size(o.max_memory));
  // No one value of the ONNX evaluator may outgrow the whole budget.
  onnx_eval::ValueLimitScope value_limit(onnx_eval::elements_within(budget.limit()));
  r.allocator_settings = allocator_tuning_env_text();
  r.a = profile_model(o.model, o, g, budget);
  if (!o.compare.empty()) r.b = profile_model(o.compare, o, g, budget);
  if (r.b && !r.a.runs.empty()) {
    r.ab = compare_interleaved(o, g, r.a.runs);
    for (size_t i = 0; i < r.ab.size(); ++i)
      if (r.ab[i].noisy)
        r.a.warnings.push_back(fmt::format("A/B at batch {}, {} thread(s): the interleaved rounds disagree ({:.1f}% "
                                           "spread); the B/A ratio is inconclusive (busy machine?)",
                                           r.a.runs[i].batch, r.a.runs[i].threads, 100 * r.ab[i].noise));
  }
  add_tuned_figures(r.a, o, g);
  if (r.b) add_tuned_figures(*r.b, o, g);
  r.warnings = r.a.warnings;
  if (r.b) r.warnings.insert(r.warnings.end(), r.b->warnings.begin(), r.b->warnings.end());
  for (const auto& w : r.warnings) log::warn("{}", w);
  return r;
}

}  // namespace mlopt
