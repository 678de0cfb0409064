#pragma once
// `mlopt run PIPELINE.yaml`: validates the pipeline, runs its steps in
// dependency order with a step cache, writes manifest.json, report.md and
// report.html, and evaluates the gates. No LibTorch here.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlopt/core/options.h"

namespace mlopt {

struct RunOptions {
  std::string pipeline;
  std::vector<std::string> set;  // key.path=value overrides
  std::string out;               // default mlopt-out/<pipeline name>/
  bool dry_run = false;
  std::string only;              // run this step only (the steps it reads come from the cache)
  std::string from;              // run this step and those after it
  bool force = false;            // recompute instead of using the cache
  std::string publish;           // a model repository: a passing run becomes its next version

  template <class V>
  void visit(V& v) {
    v.positional("pipeline", pipeline, "Pipeline file (YAML)");
    v.option("set", set, "Override a config field: key.path=value (repeatable), e.g. steps.train.epochs=1");
    v.option("out", out, "Output folder (default: mlopt-out/<pipeline name>/)");
    v.flag("dry-run", dry_run, "Validate and print the resolved plan; run nothing");
    v.option("only", only, "Run only this step; the steps it reads must be cached");
    v.option("from", from, "Run this step and every step after it; earlier steps must be cached");
    v.flag("force", force, "Recompute every step instead of reusing cached results");
    v.option("publish", publish, "Publish the release to this model repository when the run passes (docs/registry.md)");
  }
};

struct RunArtifact {
  std::string path;    // relative to the output folder
  std::string format;  // torchscript | torchscript-lite | onnx
  std::string sha256;
  int64_t size = 0;
  std::string step;
  std::string model;   // the step's model reference (its name)
  std::string signature_json;  // {"inputs": [...], "outputs": [...]}
  std::string metrics_json;    // figures measured on it
};

struct RunStep {
  std::string name, type;
  std::string status;  // ran | cached | skipped
  double seconds = 0;  // this run's wall time (a cached step: the time of the lookup)
  double original_seconds = 0;  // the step's own work when it last ran
  std::vector<std::string> models;
  std::string failure;  // a check that failed (verify out of tolerance)
};

struct GateVerdict {
  std::string name;     // "quantize_int8: max_p50_latency_ms <= 5"
  std::string figure;   // "p50 latency 3.2 ms"
  bool passed = false;
  bool measured = true;  // false: the figure it needs was not measured (the figure says why)
  // A latency gate whose figure stayed noisy after re-measuring: neither a pass
  // nor a fail (passed is false; the run exits 4, docs/exit-codes.md).
  bool inconclusive = false;
};

struct RunResult {
  std::string name;
  std::string out_dir;
  bool dry_run = false;
  std::string plan_text;
  std::string plan_json;
  std::vector<RunStep> steps;
  std::vector<RunArtifact> artifacts;
  std::vector<GateVerdict> gates;
  std::string baseline;
  double seconds = 0;
  double steps_seconds = 0;  // time inside the steps' own work (not cached)
  // A run that did not finish: "incomplete" while it runs (what a killed run
  // leaves), "failed" when a step stopped it; empty when every step ran.
  std::string stopped;
  std::string failed_step, error;
  std::string published_dir, published_version;  // --publish: the version it became

  bool passed() const;
  std::string status() const;  // passed | failed | incomplete
  std::vector<const GateVerdict*> failed_gates() const;        // failed for a real reason
  std::vector<const GateVerdict*> inconclusive_gates() const;  // noisy latency figures
  nlohmann::json to_json() const;
  std::string to_text() const;
};

RunResult run_pipeline(const RunOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
