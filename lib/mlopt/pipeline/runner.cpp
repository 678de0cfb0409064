// run_pipeline: load and validate, plan, run each step through the cache,
// measure, gate, and write the manifest and reports (even when a gate fails).
#include <chrono>
#include <filesystem>
#include <set>
#include <fmt/format.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/folder_lock.h"
#include "mlopt/core/hash.h"
#include "mlopt/core/log.h"
#include "mlopt/pipeline/gates.h"
#include "mlopt/pipeline/model_formats.h"
#include "mlopt/pipeline/plan.h"
#include "mlopt/pipeline/reports.h"
#include "mlopt/pipeline/run.h"
#include "mlopt/pipeline/step_cache.h"
#include "mlopt/registry/publish_run.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt {
namespace pipeline {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

enum class Mode { kRun, kCacheOnly, kSkip };

// Which steps --only / --from run, which must come from the cache, which are skipped.
std::map<std::string, Mode> select_steps(const Plan& plan, const RunOptions& options) {
  std::map<std::string, Mode> modes;
  const std::string& pick = !options.only.empty() ? options.only : options.from;
  for (const auto& step : plan.steps) modes[step.name()] = pick.empty() ? Mode::kRun : Mode::kSkip;
  if (pick.empty()) return modes;
  if (!plan.find(pick)) {
    std::vector<std::string> names;
    for (const auto& step : plan.steps) names.push_back(step.name());
    fail_usage("--{} {}: no such step (steps: {})", options.only.empty() ? "from" : "only", pick, fmt::join(names, ", "));
  }
  bool after = false;
  for (const auto& step : plan.steps) {
    if (step.name() == pick) after = true;
    if (step.name() == pick || (after && options.only.empty())) modes[step.name()] = Mode::kRun;
  }
  // What the selected steps read must come from the cache.
  for (auto it = plan.steps.rbegin(); it != plan.steps.rend(); ++it) {
    if (modes[it->name()] == Mode::kSkip) continue;
    for (const auto& dep : it->depends_on)
      if (modes[dep] == Mode::kSkip) modes[dep] = Mode::kCacheOnly;
  }
  return modes;
}

class Runner {
 public:
  Runner(const Plan& plan, const RunOptions& options, const GlobalOptions& globals)
      : plan_(plan), options_(options), globals_(globals), cache_(plan.out_dir), versions_(Versions::current()) {}

  RunResult run() {
    const auto start = std::chrono::steady_clock::now();
    modes_ = select_steps(plan_, options_);
    // Before any artifact changes, the folder's manifest and reports say the
    // run is under way: a run killed mid-way leaves them saying so, never the
    // previous run's "passed" beside new files.
    mark_incomplete();
    std::string current;
    try {
      for (const auto& step : plan_.steps) {
        current = step.name();
        run_step(step, modes_[step.name()]);
      }
    } catch (const std::exception& e) {
      record_failure(current, e);
      result_.seconds = seconds_since(start);
      finish();
      throw;
    }
    finish();
    result_.seconds = seconds_since(start);
    return std::move(result_);
  }

 private:
  void mark_incomplete() {
    result_.stopped = "incomplete";
    result_.error = "the run did not finish (it is running, or was killed or interrupted)";
    write_reports();
    result_.stopped.clear();
    result_.error.clear();
  }

  void record_failure(const std::string& step, const std::exception& e) {
    result_.stopped = "failed";
    result_.failed_step = step;
    const auto* error = dynamic_cast<const Error*>(&e);
    result_.error = error ? error->what() : first_line(e.what());
  }

  void write_reports() {
    result_.name = plan_.config->name;
    result_.out_dir = plan_.out_dir;
    result_.baseline = plan_.baseline;
    ReportInputs inputs{plan_, result_, artifacts_, metrics_of(plan_.baseline), step_results_};
    write_manifest(inputs);
    write_markdown_report(inputs);
    write_html_report(inputs);
  }

  void run_step(const PlannedStep& step, Mode mode) {
    RunStep record;
    record.name = step.name();
    record.type = step.type->name;
    if (mode == Mode::kSkip) {
      record.status = "skipped";
      result_.steps.push_back(record);
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    bool all_cached = true;
    for (const auto& run : step.runs) {
      record.models.push_back(run.target);
      const std::string output = step.produces_model() ? path_of(step.artifacts.front()) : "";
      CacheKeyInputs key_inputs{step.type->name, options_for_key(run.bound.options, output), step.config->save,
                                plan_.config->seed, versions_};
      const std::string key = cache_key(key_inputs);
      std::optional<CacheRecord> cached;
      if (!options_.force || mode == Mode::kCacheOnly) cached = cache_.lookup(key);
      if (!cached && mode == Mode::kCacheOnly)
        fail("step '{}' is needed by the steps you selected but has no cached result; run the pipeline once "
             "without --only/--from",
             step.name());
      // Timings are not facts: a cached latency that was noisy is measured
      // again; one that was not is reused, and measured again when a gate on
      // it does not pass (finish_gates).
      if (cached && mode == Mode::kRun && records_timing(step, cached->result) &&
          latency_noisy(step.type->metrics(cached->result))) {
        log::info("re-measuring {} on {}: its cached latency was noisy", step.name(), run.target);
        cached.reset();
      }
      if (step.type->metrics) timing_runs_.push_back({&step, &run});
      if (cached && records_timing(step, cached->result)) cached_timings_.insert(run.target);
      CacheRecord entry;
      if (cached) {
        entry = *cached;
      } else {
        all_cached = false;
        entry = execute(step, run);
        cache_.store(key, entry);
      }
      record.original_seconds += entry.seconds;
      absorb(step, run, entry, record);
    }
    record.status = all_cached ? "cached" : "ran";
    record.seconds = seconds_since(start);
    if (!all_cached) result_.steps_seconds += record.original_seconds;
    log::info("{} {} [{}] {}", all_cached ? "cached" : "ran   ", step.name(), step.type->name,
              all_cached ? "(reused, --force recomputes)" : fmt::format("{:.2f} s", record.seconds));
    result_.steps.push_back(record);
  }

  CacheRecord execute(const PlannedStep& step, const StepRun& run) {
    CacheRecord entry;
    log::info("running {} [{}] on {}", step.name(), step.type->name, run.target);
    const auto start = std::chrono::steady_clock::now();
    // The previous run's files of this step go first (the cache keeps their
    // bytes): what the step leaves is then exactly what it wrote.
    for (const auto& name : step.artifacts) {
      std::error_code ec;
      fs::remove(path_of(name), ec);
    }
    try {
      entry.result = run.bound.run();
    } catch (const Error& e) {
      // A check that failed (verify out of tolerance) is a finding for the
      // report, not the end of the run.
      // A model step whose check failed and that wrote nothing (quantize under
      // its quality floor) stops the run: the steps after it have no model.
      const bool nothing_written = step.produces_model() && !file_exists(path_of(step.artifacts.front()));
      if (e.exit_code() != kExitCheckFailed || nothing_written)
        throw Error(fmt::format("step '{}': {}", step.name(), e.what()), e.exit_code(), e.detail());
      entry.result = {{"passed", false}, {"error", e.what()}};
    }
    if (step.produces_model()) {
      const std::string primary = path_of(step.artifacts.front());
      if (!file_exists(primary)) fail("step '{}' finished without writing {}", step.name(), primary);
      for (size_t i = 1; i < step.artifacts.size(); ++i) save_extra(step, primary, path_of(step.artifacts[i]));
      json signatures = json::object();
      for (const auto& name : step.artifacts) {
        const std::string path = path_of(name);
        entry.artifacts.push_back({name, sha256_file(path), file_size(path)});
        signatures[name] = artifact_signature(path, plan_.config->inputs, plan_.config->seed);
      }
      entry.extra["signatures"] = signatures;
    }
    entry.seconds = seconds_since(start);
    return entry;
  }

  // Whether a measuring step's figures are timings (it records `latency_ms`).
  static bool records_timing(const PlannedStep& step, const json& result) {
    return step.type->metrics && !result.empty() && step.type->metrics(result).contains("latency_ms");
  }

  // Runs the measuring steps that timed `model` again and records their figures.
  void remeasure(const std::string& model) {
    for (const auto& [step, run] : timing_runs_) {
      if (run->target != model || modes_[step->name()] != Mode::kRun) continue;
      CacheRecord entry = execute(*step, *run);
      if (!records_timing(*step, entry.result)) continue;
      merge_metrics(run->target, step->type->metrics(entry.result));
    }
    cached_timings_.erase(model);
  }

  // The gates, after re-measuring what a latency gate should not decide on: a
  // noisy figure, or a cached one that does not pass (the machine may have
  // been busy when it was measured). Up to kRemeasures times; a figure still
  // noisy then makes its gate inconclusive (evaluate_gates).
  std::vector<GateVerdict> finish_gates() {
    constexpr int kRemeasures = 2;
    const auto& configs = plan_.config->gates;
    auto metrics = [&](const std::string& m) { return metrics_of(m); };
    auto gates = evaluate_gates(configs, plan_.baseline, metrics);
    for (int attempt = 1; attempt <= kRemeasures; ++attempt) {
      std::set<std::string> again;
      for (size_t i = 0; i < gates.size() && i < configs.size(); ++i) {
        if (gates[i].passed || !gates[i].measured) continue;
        for (const auto& model : timed_models(configs[i], plan_.baseline))
          if (latency_noisy(metrics_of(model)) || cached_timings_.count(model)) again.insert(model);
      }
      if (again.empty()) break;
      for (const auto& model : again) {
        log::warn("measuring the latency of {} again ({} of {}): {}", model, attempt, kRemeasures,
                  cached_timings_.count(model) ? "a gate does not pass on the cached figure" : "the figure is noisy");
        remeasure(model);
      }
      gates = evaluate_gates(configs, plan_.baseline, metrics);
    }
    return gates;
  }

  // `save: [ptl, onnx]`: more formats of the step's model.
  void save_extra(const PlannedStep& step, const std::string& primary, const std::string& path) {
    const std::string format = extension_of(path);
    if (format == ".ptl") {
      with_context("step '" + step.name() + "': saving " + path, [&] {
        save_lite(primary, path, plan_.config->inputs, plan_.config->seed);
      });
    } else if (format == ".onnx") {
      const StepType* exporter = find_step_type("export-onnx");
      if (!exporter) fail("step '{}': save: onnx needs the export-onnx step, which this build lacks", step.name());
      StepInputs inputs;
      inputs.models[exporter->model_keys().front()] = primary;
      inputs.output = path;
      inputs.input_specs = plan_.config->inputs;
      inputs.globals = globals_;
      inputs.globals.seed = plan_.config->seed;
      YAML::Node empty(YAML::NodeType::Map);
      exporter->bind(empty, plan_.config->source, "step '" + step.name() + "' (save: onnx)", inputs).run();
    } else if (format != ".pt") {
      fail("step '{}': cannot save {}", step.name(), path);
    }
  }

  // Records a step's artifacts or the figures it measured.
  void absorb(const PlannedStep& step, const StepRun& run, const CacheRecord& entry, RunStep& record) {
    step_results_[step.name()].push_back({{"model", run.target}, {"result", entry.result}});
    if (step.produces_model()) {
      for (const auto& a : entry.artifacts) {
        json artifact = {{"path", a.name},
                         {"format", format_of(a.name)},
                         {"sha256", a.sha256},
                         {"size", a.size},
                         {"step", step.name()},
                         {"step_type", step.type->name},
                         {"signature", entry.extra.value("signatures", json::object()).value(a.name, json::object())},
                         {"metrics", {{"size", a.size}}}};
        artifacts_.push_back(artifact);
      }
      // A .ptl carries the signature of the archive it came from.
      const json primary_signature = primary_artifact(step.name())->at("signature");
      for (auto& a : artifacts_)
        if (a["step"] == step.name() && a["signature"].empty()) a["signature"] = primary_signature;
    } else {
      if (step.type->metrics) merge_metrics(run.target, step.type->metrics(entry.result));
      const auto keys = step.type->model_keys();
      if (step.type->reference_metrics && keys.size() > 1 && run.models.count(keys[1]))
        merge_metrics(run.models.at(keys[1]), step.type->reference_metrics(entry.result));
    }
    {
      std::string why = step.type->failure ? step.type->failure(entry.result) : "";
      if (!why.empty()) {
        record.failure += (record.failure.empty() ? "" : "; ") + why;
        check_failures_.push_back({fmt::format("{} on {}: {} passes", step.name(), run.target, step.type->name),
                                   why, false});
      }
    }
  }

  json* primary_artifact(const std::string& model) {
    for (auto& a : artifacts_)
      if (a["step"] == model) return &a;
    return nullptr;
  }

  void merge_metrics(const std::string& model, const json& metrics) {
    json* target = nullptr;
    if (model == kSourceRef) target = &source_metrics_;
    else if (json* a = primary_artifact(model)) target = &(*a)["metrics"];
    if (target) target->merge_patch(metrics);
  }

  json metrics_of(const std::string& model) {
    if (model == kSourceRef) {
      json m = source_metrics_;
      m["size"] = file_size(plan_.config->model.path);
      return m;
    }
    json* a = primary_artifact(model);
    return a ? (*a)["metrics"] : json::object();
  }

  void finish() {
    result_.gates = check_failures_;
    // A run that a step stopped measured only part of what the gates need.
    auto gates = result_.stopped.empty() ? finish_gates() : std::vector<GateVerdict>{};
    for (const auto& gate : gates) {
      // A partial run (--only/--from) may not run the steps that measure a
      // gate's figure: such a gate is skipped, and said so, not failed.
      if (partial_run() && !gate.measured) {
        log::info("gate skipped: {} ({} in this partial run)", gate.name, gate.figure);
        continue;
      }
      result_.gates.push_back(gate);
    }
    for (const auto& a : artifacts_) {
      RunArtifact artifact;
      artifact.path = a["path"];
      artifact.format = a["format"];
      artifact.sha256 = a["sha256"];
      artifact.size = a["size"];
      artifact.step = a["step"];
      artifact.model = a["step"];
      artifact.signature_json = a["signature"].dump();
      artifact.metrics_json = a["metrics"].dump();
      result_.artifacts.push_back(artifact);
    }
    write_reports();
  }

  bool partial_run() const { return !options_.only.empty() || !options_.from.empty(); }

  std::string path_of(const std::string& name) const { return (fs::path(plan_.out_dir) / name).string(); }

  const Plan& plan_;
  const RunOptions& options_;
  const GlobalOptions& globals_;
  StepCache cache_;
  Versions versions_;
  RunResult result_;
  json artifacts_ = json::array();
  json source_metrics_ = json::object();
  std::map<std::string, json> step_results_;
  std::vector<GateVerdict> check_failures_;
  std::map<std::string, Mode> modes_;
  std::vector<std::pair<const PlannedStep*, const StepRun*>> timing_runs_;  // measuring steps, to time again
  std::set<std::string> cached_timings_;  // models whose latency came from the cache in this run
};

}  // namespace
}  // namespace pipeline

RunResult run_pipeline(const RunOptions& options, const GlobalOptions& globals) {
  using namespace pipeline;
  if (!options.only.empty() && !options.from.empty()) fail_usage("--only and --from cannot be combined");
  const PipelineConfig config = load_pipeline(options.pipeline, options.set);
  // A bad `publish:` section fails before anything runs.
  if (!options.publish.empty() || config.root["publish"]) registry::check_publish_config(config);
  const std::string out_dir = options.out.empty() ? (fs::path("mlopt-out") / config.name).string() : options.out;
  const Plan plan = build_plan(config, out_dir, globals);
  if (options.dry_run) {
    RunResult result;
    result.name = config.name;
    result.out_dir = out_dir;
    result.dry_run = true;
    result.baseline = plan.baseline;
    result.plan_text = plan.to_text();
    result.plan_json = plan.to_json().dump();
    return result;
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) fail("cannot create the output folder {}: {}", out_dir, ec.message());
  const FolderLock lock(out_dir, "mlopt run");
  RunResult result = Runner(plan, options, globals).run();
  if (!options.publish.empty()) {
    if (result.passed()) {
      const PublishResult published = registry::publish_run(config, out_dir, options.publish);
      result.published_dir = published.dir;
      result.published_version = published.version;
    } else {
      log::warn("not published to {}: the run did not pass", options.publish);
    }
  }
  return result;
}

}  // namespace mlopt
