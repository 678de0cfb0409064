// The quantize driver (driver.h): selection, measurement, the accuracy-budget
// search and the report, the same for every back end.
#include "mlopt/quantize/driver.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "mlopt/core/error.h"
#include "mlopt/core/detection_match.h"
#include "mlopt/core/log.h"
#include "mlopt/core/memory_budget.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/profile/ab_timing.h"
#include "mlopt/quantize/phase_timer.h"
#include "mlopt/quantize/quality_check.h"
#include "mlopt/runtime/quantized_engine.h"
#include "mlopt/runtime/thread_count.h"

namespace mlopt::quant {

namespace {

using quant_support::Batch;
using quant_support::Evaluation;

constexpr size_t kMaxGroupsMeasured = 32;

  // more: measured only when over budget or below a floor

// Which layers are candidates, which the user (or the back end) keeps float,
// and the groups that quantize alike, in model order.
struct Selection {
  std::vector<std::string> candidates;
  std::set<std::string> user_float;
  std::map<std::string, std::string> group_of;
  std::vector<std::vector<std::string>> groups;

  // `keys` (and their group mates) float from now on: no longer candidates or measured.
  void keep_float(const std::set<std::string>& keys) {
    auto kept = with_group_mates(keys);
    user_float.insert(kept.begin(), kept.end());
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(), [&](const auto& k) { return kept.count(k); }),
                     candidates.end());
    for (auto& g : groups) g.erase(std::remove_if(g.begin(), g.end(), [&](const auto& k) { return kept.count(k); }), g.end());
    groups.erase(std::remove_if(groups.begin(), groups.end(), [](const auto& g) { return g.empty(); }), groups.end());
  }

  std::set<std::string> with_group_mates(const std::set<std::string>& keys) const {
    std::set<std::string> groups_hit, out = keys;
    for (const auto& k : keys) groups_hit.insert(group_of.at(k));
    for (const auto& [key, group] : group_of)
      if (groups_hit.count(group)) out.insert(key);
    return out;
  }
};

Selection select_layers(const QuantizeOptions& options, Backend& backend, const std::vector<BackendLayer>& layers,
                        QuantizeResult& result) {
  Selection s;
  for (const auto& p : options.skip) {
    bool used = false;
    for (const auto& l : layers) used |= quant_support::matches_any(l.key, {p});
    if (!used) result.warnings.push_back(fmt::format("--skip '{}' matches no quantizable {}", p, backend.unit()));
  }
  for (const auto& l : layers) {
    QuantizedLayer q = l.row;
    std::string which;
    s.group_of[l.key] = l.group.empty() ? "\n" + l.key : l.group;
    if (!q.float_reason.empty()) {
      if (l.pinned) s.user_float.insert(l.key);
    } else if (quant_support::matches_any(l.key, options.skip, &which)) {
      q.float_reason = "--skip " + which;
      s.user_float.insert(l.key);
    } else {
      q.quantized = true;
      s.candidates.push_back(l.key);
    }
    result.layers.push_back(q);
  }
  // A layer kept in float keeps its group mates in float too.
  auto expanded = s.with_group_mates(s.user_float);
  for (size_t i = 0; i < layers.size(); ++i) {
    auto& q = result.layers[i];
    if (!q.quantized || !expanded.count(layers[i].key)) continue;
    q.quantized = false;
    q.float_reason = backend.group_reason();
    s.candidates.erase(std::remove(s.candidates.begin(), s.candidates.end(), layers[i].key), s.candidates.end());
  }
  s.user_float = expanded;
  for (const auto& key : s.candidates) {
    auto it = std::find_if(s.groups.begin(), s.groups.end(),
                           [&](const auto& g) { return s.group_of.at(g[0]) == s.group_of.at(key); });
    if (it == s.groups.end()) s.groups.push_back({key}); else it->push_back(key);
  }
  return s;
}

// Everything the measuring steps share.
struct Run {
  const QuantizeOptions& options;
  Backend& backend;
  const std::vector<BackendLayer>& layers;
  Selection& selection;
  quant_support::QuantizeData& data;
  quant_support::Outputs float_outputs;  // every output on the reference inputs
  QuantizeResult& result;
  std::vector<DetectionGroup> detections;  // a detector's outputs (detection_match.h)

  // The first output: what accuracy and the quality floors read.
  const std::vector<at::Tensor>& float_reference() const { return float_outputs.at(0); }
  // Float's outputs and `got` made comparable position by position: a
  // detector's detections cut down to the matched pairs.
  std::pair<quant_support::Outputs, quant_support::Outputs> comparable(const quant_support::Outputs& got) const {
    return comparable(got, float_outputs);
  }
  std::pair<quant_support::Outputs, quant_support::Outputs> comparable(const quant_support::Outputs& got,
                                                                       const quant_support::Outputs& want) const {
    if (detections.empty()) return {want, got};
    auto m = match_detections(want, got, detections);
    return {std::move(m.reference), std::move(m.got)};
  }

  ArtifactPtr build(const std::set<std::string>& float_layers) const {
    auto kept = selection.with_group_mates(float_layers);
    kept.insert(selection.user_float.begin(), selection.user_float.end());
    return backend.build(kept);
  }
  ArtifactPtr build_alone(const std::vector<std::string>& group, const std::set<std::string>& others) const {
    auto kept = selection.with_group_mates(others);
    kept.insert(selection.user_float.begin(), selection.user_float.end());
    return backend.build_alone(group, kept);
  }
  quant_support::Outputs all_outputs(const Artifact& a, const std::vector<Batch>& batches) const {
    return backend.run(a, batches, data.reference_what);
  }
  std::vector<at::Tensor> outputs(const Artifact& a, const std::vector<Batch>& batches) const {
    return all_outputs(a, batches).at(0);
  }
  double accuracy(const std::vector<at::Tensor>& out) const { return quant_support::accuracy(data.evaluation, out); }
  std::vector<QuantizedLayer*> rows_of(const std::vector<std::string>& group) const {
    std::vector<QuantizedLayer*> rows;
    for (size_t i = 0; i < layers.size(); ++i)
      if (std::find(group.begin(), group.end(), layers[i].key) != group.end()) rows.push_back(&result.layers[i]);
    return rows;
  }
};

// The name of output `k` in the report: the model's own, else "output K+1".
std::string output_label(const Run& r, int k) {
  if (k < 0 || r.float_outputs.size() < 2) return "";
  auto names = r.backend.output_names();
  return static_cast<size_t>(k) < names.size() ? names[k] : fmt::format("output {}", k + 1);
}

// The output SQNR against float: of the first output (output_sqnr_db) and,
// with several, of each.
void record_sqnr(const Run& r, const quant_support::Outputs& all) {
  auto [want, got] = r.comparable(all);
  r.result.output_sqnr_by_output.clear();
  if (all.size() > 1)
    for (size_t k = 0; k < got.size() && k < want.size(); ++k)
      r.result.output_sqnr_by_output.push_back(
          {output_label(r, static_cast<int>(k)), quant_support::sqnr_db(want[k], got[k])});
  r.result.output_sqnr_db = quant_support::sqnr_db(want.at(0), got.at(0));
}

// What the floors read: a classifier's first output, a detector's matched detections.
quant_support::OutputQuality quality_of(const Run& r, const quant_support::Outputs& all) {
  if (r.detections.empty()) return quant_support::measure_quality(r.float_reference(), all.at(0));
  return quant_support::measure_detection_quality(
      match_detections(r.float_outputs, all, r.detections), r.detections);
}

// Four more builds and 1 GiB no longer fit in what the system has left: a
// build leaves memory behind (LibTorch keeps every build's TorchScript classes,
// and with them part of its tensors: ~150 MB a build of ResNet-50), and a process
// the kernel kills for memory says nothing.
bool memory_runs_short(uint64_t growth_per_build) {
  const uint64_t available = available_system_bytes();
  return available > 0 && growth_per_build > 0 && available < 4 * growth_per_build + (1ull << 30);
}

// The layers an int8 kernel failed on after a batch change, kept float one
// by one, are at most this many (each costs a build and two runs).
constexpr size_t kMaxBatchChangeLayers = 32;

// `key` float from now on, with the batch change as its reason in the report.
void keep_float_for_batch_change(Run& r, const std::string& key) {
  r.selection.keep_float({key});
  for (size_t i = 0; i < r.layers.size(); ++i) {
    if (!r.selection.user_float.count(r.layers[i].key) || !r.result.layers[i].quantized) continue;
    r.result.layers[i].quantized = false;
    r.result.layers[i].float_reason = "the engine's int8 kernel failed on it when the batch size changed";
  }
}

// An int8 artifact must run at every batch size (a server batches requests as
// they come). While the engine fails after a batch change in one layer's int8
// kernel, that layer stays float (with the reason in the report) and the model
// is built again; a failure anywhere else is an error, not an artifact that
// breaks in production.
ArtifactPtr survive_batch_change(Run& r, ArtifactPtr quantized, const Batch& reference) {
  std::vector<std::string> kept;
  std::string first_error;
  uint64_t resident_before = resident_bytes(), growth = 0;
  for (;;) {
    auto failure = r.backend.batch_change_failure(*quantized, reference);
    if (failure.error.empty()) break;
    if (memory_runs_short(growth)) failure.layer.clear();  // no memory for another build: refuse now
    if (first_error.empty()) first_error = failure.error;
    const auto& candidates = r.selection.candidates;
    const bool one_layer = !failure.layer.empty() &&
                           std::find(candidates.begin(), candidates.end(), failure.layer) != candidates.end();
    if (failure.at_reference_batch && !one_layer)
      fail("the int8 model fails at batch {} (two threads): {}", reference.at(0).size(0), failure.error);
    if (!one_layer || kept.size() >= kMaxBatchChangeLayers)
      fail("the int8 model fails when the batch size changes (run at batch {} and then another, two threads): {}{}; "
           "for a model served at one batch size only, pass --fixed-batch",
           reference.at(0).size(0), failure.error,
           kept.empty() ? "" : fmt::format(" (after keeping {} layer(s) float that it failed in)", kept.size()));
    kept.push_back(failure.layer);
    keep_float_for_batch_change(r, failure.layer);
    quantized = nullptr;
    release_free_heap();
    quantized = r.build({});
    const uint64_t resident = resident_bytes();
    growth = std::max(growth, resident > resident_before ? resident - resident_before : 0);
    resident_before = resident;
  }
  if (!kept.empty())
    r.result.warnings.push_back(fmt::format("{} layer(s) kept float so that the model runs at every batch size, "
                                            "{}: the engine's int8 kernel failed in them ({})",
                                            kept.size(), fmt::join(kept, ", "), first_error));
  return quantized;
}

// The lowest weight SQNR among a group's layers.
double worst_weight_sqnr(const Run& r, const std::vector<std::string>& group) {
  double worst = std::numeric_limits<double>::infinity();
  for (const auto* row : r.rows_of(group)) worst = std::min(worst, row->weight_sqnr_db);
  return worst;
}

// Each group quantized alone: its output SQNR (on the outputs it feeds, the
// worst of them) and accuracy drop (first output). Returns the sort key by
// group (accuracy cost first, then noise: low SQNR = sensitive). `batches`:
// the reference batches it runs on (all, or for a blame only, the first).
std::map<std::string, double> measure_alone(const Run& r, const std::vector<Batch>& batches, double budget_s = 0) {
  quant_support::Outputs reference;  // float's outputs on those batches
  for (const auto& output : r.float_outputs) {
    auto n = static_cast<std::ptrdiff_t>(std::min(output.size(), batches.size()));
    reference.emplace_back(output.begin(), output.begin() + n);
  }
  std::map<std::string, double> cost;
  auto order = r.selection.groups;
  if (budget_s > 0)  // the groups with the largest weight error first: the likeliest culprits
    std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      return worst_weight_sqnr(r, a) < worst_weight_sqnr(r, b);
    });
  const auto start = std::chrono::steady_clock::now();
  size_t measured = 0;
  uint64_t resident_before = resident_bytes(), growth = 0;  // the most one build left resident
  for (const auto& group : order) {
    const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
    if (budget_s > 0 && measured > 0 && spent.count() > budget_s) {  // at least one: a blame names a layer
      r.result.warnings.push_back(fmt::format(
          "measured {} of {} layer groups alone (--blame-time {:g} s, the largest weight errors first)",
          measured, order.size(), budget_s));
      break;
    }
    if (memory_runs_short(growth)) {
      r.result.warnings.push_back(fmt::format(
          "measured {} of {} layer groups alone: {} of memory left, and each build holds on to about {}", measured,
          order.size(), format_bytes(available_system_bytes()), format_bytes(growth)));
      break;
    }
    ++measured;
    std::set<std::string> others;
    for (const auto& n : r.selection.candidates)
      if (std::find(group.begin(), group.end(), n) == group.end()) others.insert(n);
    PhaseTimer timer(fmt::format("the {} group of {} quantized alone", group.front(), group.size()));
    auto alone = r.all_outputs(*r.build_alone(group, others), batches);
    release_free_heap();
    const uint64_t resident = resident_bytes();
    growth = std::max(growth, resident > resident_before ? resident - resident_before : 0);
    resident_before = resident;
    int which = -1;
    auto [want, got] = r.comparable(alone, reference);
    double sqnr = quant_support::sqnr_on_changed_outputs(want, got, &which);
    double drop = r.result.has_accuracy ? r.result.accuracy_before - r.accuracy(alone.at(0)) : 0;
    for (auto* row : r.rows_of(group)) {
      row->output_sqnr_db = sqnr;
      row->output_sqnr_on = output_label(r, which);
      row->accuracy_drop = drop;
      row->sensitivity_measured = r.result.has_accuracy;
    }
    cost[group.front()] = drop * 1000.0 - sqnr;
  }
  return cost;
}

// The most sensitive groups back to float, one more at a time, until the
// budget fits (at least one group stays quantized). Returns the best artifact.
ArtifactPtr search_budget(const Run& r, std::map<std::string, double>& cost, ArtifactPtr quantized,
                          std::set<std::string>& best_fallback) {
  auto order = r.selection.groups;
  std::stable_sort(order.begin(), order.end(),
                   [&](const auto& a, const auto& b) { return cost[a.front()] > cost[b.front()]; });
  std::set<std::string> fallback;
  double best_accuracy = r.result.accuracy_after;
  for (size_t k = 0; k + 1 < order.size(); ++k) {
    fallback.insert(order[k].begin(), order[k].end());
    auto candidate = r.build(fallback);
    double acc = r.accuracy(r.outputs(*candidate, r.data.evaluation.batches));
    log::info("quantize: {} {}(s) back in float: {:.2f}% ({})", fallback.size(), r.backend.unit(), acc,
              r.options.eval);
    if (acc > best_accuracy) {
      best_accuracy = acc;
      quantized = candidate;
      best_fallback = fallback;
    }
    if (r.result.accuracy_before - acc <= r.options.max_accuracy_drop) break;
  }
  r.result.accuracy_after = best_accuracy;
  return quantized;
}

// Inputs for the latency comparison: the spec's (at --latency-batch), else the first reference batch.
Batch latency_inputs(const QuantizeOptions& options, const std::vector<InputSpec>& specs, const Batch& reference,
                     uint64_t seed) {
  if (!specs.empty()) {
    auto timed_specs = specs;
    if (options.latency_batch > 0)
      for (auto& s : timed_specs)
        if (!s.dims.empty()) s.dims[0].size = options.latency_batch;
    return random_inputs(timed_specs, seed);
  }
  Batch inputs = reference;
  if (options.latency_batch > 0) {
    auto x = inputs[0];
    auto reps = (options.latency_batch + x.size(0) - 1) / x.size(0);
    std::vector<int64_t> rep(x.dim(), 1);
    rep[0] = reps;
    inputs = {x.repeat(rep).slice(0, 0, options.latency_batch)};
  }
  return inputs;
}

// How many runs each round of the latency comparison makes of each model.
struct RoundPlan {
  int warmup = 3;  // untimed, first: the caches and allocator back to this model after the other ran
  int iters = 2;   // timed; the round's figure is their median
};

constexpr int kLatencyRounds = 5;

// The rounds' plan from what one run costs: both models run first until
// LibTorch's profiling executor has optimized their graphs (its second run)
// and once more, timed. Within --latency-time, each round makes its share of
// --latency-iters timed runs; a model whose run takes seconds (MViT on a
// 16-frame clip: 10-20 s at batch 1 on 2 cores) gets one timed run a round and
// no warm-up in it, where 3 warm-ups and 4 timed runs a round made 70 runs of
// each model, well over the zoo's 15 minutes a command.
RoundPlan plan_rounds(Backend& backend, const Artifact& quantized, const Batch& inputs, int64_t iters_total,
                      double budget_s) {
  const double run_s =
      (backend.latency_ms(nullptr, inputs, 1, 2) + backend.latency_ms(&quantized, inputs, 1, 2)) / 1000.0;
  RoundPlan plan;
  plan.warmup = run_s < 0.1 ? 3 : run_s < 1.0 ? 1 : 0;  // a warm-up is worth its time on short runs only
  plan.iters = static_cast<int>(std::max<int64_t>(2, (iters_total + kLatencyRounds - 1) / kLatencyRounds));
  const double affordable = budget_s / (kLatencyRounds * std::max(run_s, 1e-6)) - plan.warmup;
  if (affordable < plan.iters) {
    plan.iters = std::max(1, static_cast<int>(affordable));
    log::info("quantize: one float and one quantized run take {:.1f} s: {} timed run(s) of each in each of the {} "
              "rounds, within --latency-time {:g} s",
              run_s, plan.iters, kLatencyRounds, budget_s);
  }
  return plan;
}

// Float and quantized timed in interleaved rounds (the order alternates), the
// median of each round; the ratio of the medians over rounds, with the noise
// (profile/ab_timing.h): a machine whose load changes during the measurement
// favours neither model, and a ratio the rounds disagree on is not reported as a finding.
AbComparison interleaved_latency(Backend& backend, const Artifact& quantized, const Batch& inputs,
                                 const RoundPlan& plan) {
  std::vector<double> float_ms, quant_ms;
  auto time_float = [&] { float_ms.push_back(backend.latency_ms(nullptr, inputs, plan.iters, plan.warmup)); };
  for (int round = 0; round < kLatencyRounds; ++round) {
    if (round % 2 == 0) time_float();
    quant_ms.push_back(backend.latency_ms(&quantized, inputs, plan.iters, plan.warmup));
    if (round % 2 == 1) time_float();
  }
  return judge_ab(float_ms, quant_ms);
}

// The thread count the comparison runs at: this process's, except for an
// engine that contends with OpenMP's spinning workers on several threads
// (QNNPACK on x86 LibTorch, runtime/quantized_engine.h: several times slower
// there, which a phone's PyTorch is not): both sides at 1 thread, a fair
// comparison that says something about the int8 kernels.
int latency_threads(const std::string& engine) {
  const int threads = at::get_num_threads();
  return engine_tuning_env(engine, threads).empty() ? threads : 1;
}

struct TimedComparison {
  AbComparison ab;
  RoundPlan plan;
};

// The comparison at `threads` (this process's count back after it).
TimedComparison compare_latency_at(int threads, const QuantizeOptions& options, Backend& backend,
                                   const Artifact& quantized, const Batch& inputs) {
  ThreadCountScope at_threads(threads);
  TimedComparison t;
  t.plan = plan_rounds(backend, quantized, inputs, options.latency_iters, options.latency_seconds);
  t.ab = interleaved_latency(backend, quantized, inputs, t.plan);
  // A noisy figure a gate reads is measured once more before it is called inconclusive.
  if (t.ab.noisy && options.min_speedup > 0) t.ab = interleaved_latency(backend, quantized, inputs, t.plan);
  return t;
}

void measure_latency(const QuantizeOptions& options, Backend& backend, const Artifact& quantized, const Batch& inputs,
                     bool int8, QuantizeResult& result) {
  const int threads = latency_threads(result.engine);
  const auto [ab, plan] = compare_latency_at(threads, options, backend, quantized, inputs);
  result.has_latency = true;
  result.latency_threads = threads;
  result.latency_runs = kLatencyRounds * plan.iters;
  result.latency_threads_lowered = threads != at::get_num_threads();
  result.latency_batch = inputs.empty() || inputs[0].dim() == 0 ? 1 : inputs[0].size(0);
  result.latency_float_ms = ab.a_ms;
  result.latency_quant_ms = ab.b_ms;
  result.speedup = ab.speedup;
  result.latency_noise = ab.noise;
  result.latency_verdict = ab.verdict;
  if (ab.noisy) {
    result.warnings.push_back(fmt::format("the latency comparison is noisy ({:.1f}% spread between interleaved rounds; "
                                          "busy machine?): {:.2f}x is not a finding",
                                          100 * ab.noise, ab.speedup));
    // A noisy speedup still decides --min-speedup when the limit lies far outside its noise (0.1x against a
    // limit of 2x), as the pipeline's latency gates do; near the limit it is inconclusive.
    const double margin = ab.speedup > 0 ? std::abs(ab.speedup - options.min_speedup) / ab.speedup : 0;
    const bool decides = std::isfinite(ab.noise) && margin > std::max(0.1, 2 * ab.noise);
    if (options.min_speedup > 0 && !decides) {
      result.exit_code = kExitInconclusive;
      result.warnings.push_back(fmt::format("--min-speedup {:.2f}: inconclusive, the speedup could not be measured "
                                            "reliably (exit {})", options.min_speedup, kExitInconclusive));
    }
    if (options.min_speedup <= 0 || !decides) return;
  }
  if (int8 && result.speedup <= 1.0)
    result.warnings.push_back(fmt::format(
        "INT8 IS NOT FASTER THAN FLOAT ON THIS MACHINE: {:.3f} ms vs {:.3f} ms float at batch {} ({:.2f}x)",
        result.latency_quant_ms, result.latency_float_ms, result.latency_batch, result.speedup));
  if (options.min_speedup > 0 && result.speedup < options.min_speedup) {
    result.exit_code = kExitCheckFailed;
    result.warnings.push_back(
        fmt::format("speedup {:.2f}x is below --min-speedup {:.2f}", result.speedup, options.min_speedup));
  }
}

QuantizeResult finish(QuantizeResult& result) {
  for (const auto& w : result.warnings) log::warn("{}", w);
  return result;
}

}  // namespace

QuantizeResult drive_quantize(const QuantizeOptions& options, uint64_t seed, Backend& backend, QuantizeResult result) {
  const bool int8 = options.mode == "dynamic" || options.mode == "static";
  const auto layers = backend.layers();
  auto selection = select_layers(options, backend, layers, result);
  backend.check_selection(layers, selection.candidates.size(), result.warnings);

  const auto specs = backend.input_specs();
  auto data = quant_support::load_quantize_data(options, specs, seed, result.warnings);
  {
    PhaseTimer timer("preparing the data (and the lowering check)");
    backend.prepare_data(data, result.warnings);
  }
  Run r{options, backend, layers, selection, data, {}, result};
  {
    PhaseTimer timer("the float reference run");
    r.float_outputs = backend.run_float(data.reference, data.reference_what);
  }
  if (r.float_outputs.empty()) fail("'{}' returned no tensor on {}", options.model.path, data.reference_what);
  r.detections = detection_groups(r.float_outputs);
  quant_support::check_finite_outputs(r.float_reference(), data.reference_what);
  auto& evaluation = data.evaluation;
  if (!evaluation.batches.empty()) evaluation.float_outputs = r.float_reference();
  if (options.mode == "static") backend.calibrate(data, selection.user_float);

  ArtifactPtr quantized;
  {
    PhaseTimer timer("building the quantized model");
    quantized = r.build({});
  }
  quant_support::Outputs outputs;
  if (int8 && !options.fixed_batch) {
    PhaseTimer timer("the batch-change check");
    quantized = survive_batch_change(r, std::move(quantized), data.reference.front());
  }
  {
    PhaseTimer timer("the quantized reference run");
    outputs = r.all_outputs(*quantized, data.reference);
  }
  record_sqnr(r, outputs);
  if (!evaluation.batches.empty()) {
    result.has_accuracy = true;
    result.accuracy_metric = evaluation.labelled ? "top1" : "agreement";
    for (const auto& b : evaluation.batches) result.eval_samples += b[0].size(0);
    result.accuracy_before = r.accuracy(r.float_reference());
    result.accuracy_after = r.accuracy(outputs.at(0));
  }

  // Sensitivity per group, and under a budget the search that sends groups back to float.
  const double budget = options.max_accuracy_drop;
  const bool over_budget = budget >= 0 && result.accuracy_before - result.accuracy_after > budget;
  const size_t groups = selection.groups.size();
  const bool measure_layers = int8 && groups > 1 && (groups <= kMaxGroupsMeasured || over_budget);
  std::map<std::string, double> cost;
  // Each group alone costs a build and runs: within --blame-time, unless the accuracy budget's search needs
  // every group's cost (ViT-B/16's 26 groups took over 15 minutes).
  if (measure_layers) cost = measure_alone(r, data.reference, over_budget ? 0 : options.blame_seconds);
  std::string write_path = options.output;
  if (over_budget) {
    std::set<std::string> fallback;
    if (int8) {
      quantized = search_budget(r, cost, quantized, fallback);
      outputs = r.all_outputs(*quantized, data.reference);
      record_sqnr(r, outputs);
    }
    write_path = quant_support::apply_budget_outcome(result, fallback, budget, options.output, backend.unit());
  }
  if (result.has_accuracy) {
    Evaluation e = evaluation;
    e.labelled = false;
    result.agreement = quant_support::accuracy(e, outputs.at(0));
  }
  {
    PhaseTimer timer("listing the executed kernels");
    result.quantized_ops = backend.op_counts(*quantized);
  }
  if (int8 && result.quantized_ops.empty())
    fail("quantizing '{}' produced no quantized kernels (check --skip)", options.model.path);

  // A badly wrong artifact is exit 3 with the layers to blame, and is not written.
  auto quality = quality_of(r, outputs);
  // The blame of a failed check, on many groups (every conv of a zoo model), runs on the first reference
  // batch (each group alone costs a build and a run; the ranking is what it is for), unless an accuracy
  // drop on the --eval data is measured too.
  if (!quant_support::quality_passes(options, quality) && int8 && groups > 1 && !measure_layers)
    measure_alone(r, result.has_accuracy ? data.reference : std::vector<Batch>{data.reference.front()},
                  options.blame_seconds);  // a build and a run per group: 3 s on a zoo CNN, 100 groups in a RegNet
  if (!quant_support::apply_quality_floors(result, options, quality)) {
    result.candidate_output.clear();
    return finish(result);
  }

  if (backend.times_latency() && !options.no_latency)
    measure_latency(options, backend, *quantized, latency_inputs(options, specs, data.reference.front(), seed), int8,
                    result);

  std::vector<std::string> float_layers;
  for (const auto& l : result.layers)
    if (!l.quantized) float_layers.push_back(l.name);
  PhaseTimer timer("writing");
  backend.write(*quantized, write_path, data, float_layers, result);
  return finish(result);
}

}  // namespace mlopt::quant
