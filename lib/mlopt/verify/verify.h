#pragma once
// `mlopt verify A [B]`: do two artifacts (or one artifact and stored outputs)
// compute the same thing? Torch-free header.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlopt/core/dataset.h"
#include "mlopt/core/options.h"
#include "mlopt/script/model_source.h"
#include "mlopt/verify/compare.h"

namespace mlopt {

struct VerifyOptions {
  std::string a;                    // the artifact checked: .pt | .ptl | .onnx | .py
  std::string b;                    // the reference artifact (or --expected)
  ModelSource python;               // class/init/weights for .py artifacts
  std::vector<std::string> input;   // input specs (default: what the artifacts declare)
  std::string inputs;               // .npy/.npz input tensors (npz keyed by input name)
  std::string data;                 // a data set (.npz/.csv/.csv.gz) whose samples are the inputs
  DataOptions data_options;
  std::string expected;             // .npy/.npz reference outputs instead of B
  std::string save_outputs;         // write A's outputs (.npz) for later --expected use
  int samples = 4;                  // random input draws per shape
  int batch_size = 32;              // --data: samples per batch
  int max_samples = 256;            // --data: samples used at most
  std::string precision = "auto";   // tolerance defaults: auto (from the artifacts) | fp32 | fp16 | bf16 | int8
  double rtol = -1, atol = -1, min_cosine = -1, min_top1 = -1, max_outside = -1;  // -1: the precision's default
  std::vector<int64_t> dynamic_sizes;  // sizes tried for dynamic dims (default: the example size and 3)
  bool no_dynamic_check = false;
  std::string max_memory;           // resident memory budget ("2G"; empty: none), core/memory_budget.h

  template <class V>
  void visit(V& v) {
    v.positional("model", a, "Artifact to check: .pt, .ptl, .onnx or .py");
    v.optional_positional("reference", b, "Reference artifact to compare against (or give --expected)");
    python.visit_python_fields(v);
    v.option("input", input, "Input spec NAME:SHAPE[:DTYPE[:LOW..HIGH]], e.g. x:batch=1x3x32x32 (repeatable)");
    v.option("inputs", inputs, "Input tensors from a .npy/.npz file (npz keyed by input name)");
    v.option("data", data, "Inputs from a data set: .npz (x, y) or .csv/.csv.gz (see docs/datasets.md)");
    data_options.visit(v);
    v.option("expected", expected, "Reference outputs (.npy/.npz) to compare A against instead of B");
    v.written_file("save-outputs", save_outputs, "Write A's outputs to this .npz (to use later with --expected)");
    v.option("samples", samples, "Random input draws per shape");
    v.option("batch-size", batch_size, "Samples per batch with --data");
    v.option("max-samples", max_samples, "Samples used at most with --data");
    v.choice("precision", precision, {"auto", "fp32", "fp16", "bf16", "int8"},
             "Precision whose default tolerances apply (auto: from the artifacts)");
    v.option("rtol", rtol, "Relative tolerance (default by precision: fp32 1e-3)");
    v.option("atol", atol, "Absolute tolerance, the whole of it (default by precision: fp32 1e-5 plus 1e-4 x the reference's largest magnitude)");
    v.option("min-cosine", min_cosine, "Lowest cosine similarity accepted per output");
    v.option("min-top1", min_top1, "Lowest top-1 agreement accepted for classifier outputs");
    v.option("max-outside", max_outside, "Largest share of elements allowed outside rtol/atol");
    v.option("dynamic-sizes", dynamic_sizes, "Sizes tried for dynamic dims (default: the example size and 3)");
    v.flag("no-dynamic-check", no_dynamic_check, "Check only at the example shape");
    v.option("max-memory", max_memory, "Memory budget, e.g. 2G: refuse inputs that would exceed it, stop a run that does");
  }
};

// One input shape the artifacts were run at.
struct ShapeCheck {
  std::string shapes;       // "x:3x16"
  int64_t cases = 0;
  bool passed = true;
  std::string error;        // A or B failed to run at this shape
};

struct VerifyResult {
  std::string a, b, expected;
  std::string engine_a, engine_b;
  std::string input_source;  // "random", "file", "data"
  Tolerance tolerance;
  std::vector<ShapeCheck> shapes;
  ComparisonReport report;   // per output, merged over every case and shape
  int64_t cases = 0;         // input sets run
  std::optional<double> accuracy_a, accuracy_b;  // --data with labels, classifier outputs
  int64_t labelled_samples = 0;
  bool passed = false;
  std::vector<std::string> failures;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

VerifyResult verify(const VerifyOptions& options, const GlobalOptions& globals);

}  // namespace mlopt
