#include "mlopt/core/written_paths.h"
#include "mlopt/verify/verify.h"

#include <torch/script.h>

#include <algorithm>
#include <map>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/detection_match.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/memory_budget.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/eval/tensor_limits.h"
#include "mlopt/runtime/input_cases.h"
#include "mlopt/runtime/runner.h"

namespace mlopt {
namespace {

// How loose each precision's defaults are, loosest last.
int looseness(const std::string& precision) {
  if (precision == "fp16") return 1;
  if (precision == "bf16") return 2;
  if (precision == "int8") return 3;
  return 0;
}

Tolerance tolerance_for(const VerifyOptions& o, const Runner& a, const Runner* b) {
  std::string precision = o.precision;
  if (precision == "auto") {
    precision = a.precision();
    if (b && looseness(b->precision()) > looseness(precision)) precision = b->precision();
  }
  Tolerance t = Tolerance::for_precision(precision);
  if (o.rtol >= 0) t.rtol = o.rtol;
  if (o.atol >= 0) t.atol = o.atol, t.scale_atol = 0;  // an explicit --atol is the whole absolute tolerance
  if (o.min_cosine >= 0) t.min_cosine = o.min_cosine;
  if (o.min_top1 >= 0) t.min_top1 = o.min_top1;
  if (o.max_outside >= 0) t.max_outside = o.max_outside;
  return t;
}

std::vector<InputSpec> input_specs(const VerifyOptions& o, const Runner& a, const Runner* b) {
  if (!o.input.empty()) return parse_input_specs(o.input);
  auto declared = a.declared_inputs();
  if (declared.empty() && b) declared = b->declared_inputs();
  return declared;
}

void check_sources(const VerifyOptions& o) {
  if (o.a.empty()) fail_usage("give the artifact to verify");
  if (o.b.empty() && o.expected.empty()) fail_usage("give a reference: a second artifact B, or --expected FILE.npz");
  if (!o.b.empty() && !o.expected.empty()) fail_usage("give either a second artifact or --expected, not both");
  int sources = !o.inputs.empty() + !o.data.empty();
  if (sources > 1) fail_usage("give one input source: --input specs, --inputs FILE or --data FILE");
}

std::vector<InputCase> build_cases(const VerifyOptions& o, const GlobalOptions& g, const std::vector<InputSpec>& specs,
                                   bool exported, VerifyResult& r) {
  if (!o.inputs.empty()) {
    r.input_source = "file";
    return {file_case(o.inputs, specs)};
  }
  if (!o.data.empty()) {
    r.input_source = "data";
    DataOptions d = o.data_options;
    d.path = o.data;
    return data_cases(load_dataset(d), o.batch_size, o.max_samples);
  }
  r.input_source = "random";
  if (specs.empty())
    fail("'{}' declares no inputs: give --input NAME:SHAPE[:DTYPE] (e.g. x:batch=1x3x32x32), --inputs FILE or --data FILE",
         o.a);
  bool dynamic = false;
  for (const auto& s : specs) dynamic = dynamic || s.has_dynamic_dims();
  std::vector<int64_t> sizes = o.dynamic_sizes;
  // A dynamic dim silently frozen at export time is the most common export bug:
  // check exported files at a second size unless told otherwise.
  if (sizes.empty() && dynamic && exported && !o.no_dynamic_check) sizes = {3};
  if (o.no_dynamic_check) sizes.clear();
  // With --expected the reference holds one case's outputs.
  if (!o.expected.empty()) return {random_cases(specs, 1, {}, g.seed).front()};
  return random_cases(specs, o.samples, sizes, g.seed);
}

bool is_exported(const std::string& path) {
  std::string ext = extension_of(path);
  return ext == ".onnx" || ext == ".ptl";
}

std::vector<at::Tensor> expected_outputs(const std::string& path, const std::vector<std::string>& names) {
  auto named = load_tensors(path);
  std::vector<at::Tensor> out;
  bool by_name = !names.empty();
  for (const auto& n : names) {
    bool found = false;
    for (const auto& [k, t] : named) found = found || k == n;
    by_name = by_name && found;
  }
  if (by_name) {
    for (const auto& n : names)
      for (const auto& [k, t] : named)
        if (k == n) out.push_back(t);
    return out;
  }
  for (const auto& [k, t] : named) out.push_back(t);
  return out;
}

double accuracy(const std::vector<std::pair<at::Tensor, at::Tensor>>& batches) {
  int64_t right = 0, total = 0;
  for (const auto& [logits, labels] : batches) {
    right += logits.argmax(1).eq(labels).sum().item<int64_t>();
    total += labels.numel();
  }
  return total ? static_cast<double>(right) / static_cast<double>(total) : 0.0;
}

bool classifier_output(const std::vector<at::Tensor>& outs, const at::Tensor& labels) {
  return labels.defined() && !outs.empty() && outs[0].dim() == 2 && outs[0].size(0) == labels.size(0) &&
         outs[0].size(1) >= 2 && outs[0].is_floating_point();
}

// A detector's per-detection rows are discrete at their edges: keypoints are
// the argmax of a heatmap (a last-bit tie moves one by a cell: Keypoint R-CNN's
// export: 4 of 5,100 keypoint values, up to 12.7 px, and 10 of 1,700 keypoint
// scores, the heatmap read at the other cell, 0.0043) and masks are pasted into
// the image at whole-pixel bounds (Mask R-CNN's export: 0.015% of the mask
// pixels, 0.0026 apart). A few elements may be outside; a wrong kernel moves
// nearly all.
constexpr double kDetectionRowsMaxOutside = 0.01;

Tolerance detection_rows_tolerance(const Tolerance& t) {
  Tolerance rows = t;
  rows.max_outside = std::max(t.max_outside, kDetectionRowsMaxOutside);
  return rows;
}

}  // namespace

VerifyResult verify(const VerifyOptions& o, const GlobalOptions& g) {
  check_written_paths(o);
  check_sources(o);
  VerifyResult r;
  r.a = o.a;
  r.b = o.b;
  r.expected = o.expected;
  MemoryBudget budget(parse_memory_size(o.max_memory));
  // No one value of the ONNX evaluator may outgrow the whole budget.
  onnx_eval::ValueLimitScope value_limit(onnx_eval::elements_within(budget.limit()));
  for (const auto& path : {o.a, o.b})
    if (!path.empty() && file_exists(path))
      budget.reserve(static_cast<uint64_t>(file_size(path)), fmt::format("loading '{}'", path));
  // A .py model initializes its parameters from --seed, as `mlopt script` does.
  ModelSource python = o.python;
  python.seed = g.seed;
  auto a = load_runner(o.a, python);
  std::unique_ptr<Runner> b = o.b.empty() ? nullptr : load_runner(o.b, python);
  r.engine_a = a->engine();
  r.engine_b = b ? b->engine() : "stored outputs";
  r.tolerance = tolerance_for(o, *a, b.get());
  auto specs = input_specs(o, *a, b.get());
  budget.reserve(input_bytes(specs) * static_cast<uint64_t>(std::max(1, o.samples)), "the random input cases");
  auto cases = build_cases(o, g, specs, is_exported(o.a) || is_exported(o.b), r);
  std::vector<std::string> names = a->output_names();
  if (names.empty() && b) names = b->output_names();
  std::vector<at::Tensor> expected;
  if (!o.expected.empty()) expected = expected_outputs(o.expected, names);

  std::vector<std::vector<OutputComparison>> per_output;  // [output][case]
  std::vector<std::pair<at::Tensor, at::Tensor>> acc_a, acc_b;
  std::map<std::string, size_t> shape_index;
  std::vector<at::Tensor> saved;
  std::map<size_t, Tolerance> row_tolerance;  // a detector's masks and keypoints
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    if (!shape_index.count(c.shape_label)) {
      shape_index[c.shape_label] = r.shapes.size();
      r.shapes.push_back({c.shape_label});
    }
    ShapeCheck& shape = r.shapes[shape_index[c.shape_label]];
    bool first_shape = shape_index[c.shape_label] == 0;
    std::vector<at::Tensor> out_a, out_b;
    try {
      out_a = a->run(c.inputs);
      out_b = b ? b->run(c.inputs) : expected;
    } catch (const Error& e) {
      // At the example shape a failure to run is an error; at another size of
      // a dynamic dim it is what this check exists to catch.
      if (first_shape) throw;
      shape.passed = false;
      if (shape.error.empty()) r.failures.push_back(fmt::format("at {}: {}", c.shape_label, e.what()));
      shape.error = e.what();
      continue;
    }
    if (i == 0) saved = out_a;
    ++shape.cases;
    ++r.cases;
    // A detector: detections compared as matched sets (the row order and the rows at the score cut turn on
    // last bits), the pairs element by element.
    // Pairs must be near-identical (within the precision's rtol, at least 2%): a looser pair would join two
    // different detections that each crossed the cut.
    auto matched = align_detections(out_b, out_a, MatchCriteria::close(std::max(0.02, 2 * r.tolerance.rtol)));
    std::vector<size_t> boxes;  // no classifier's logits (no top-1 column for them)
    if (matched)
      for (const auto& g : matched->groups) {
        boxes.push_back(g.boxes);
        for (size_t k : g.rows) row_tolerance.emplace(k, detection_rows_tolerance(r.tolerance));
      }
    auto report = compare_outputs(out_a, out_b, r.tolerance, names, boxes, row_tolerance);
    if (matched && matched->agreement < 1.0) {
      report.passed = false;
      report.failures.push_back(fmt::format(
          "detections at {}: {} of {} matched by label and IoU >= 0.5 ({} vs {} detections); one away from the "
          "score cut is missing or extra",
          c.shape_label, matched->matched, matched->reference_detections, matched->got_detections,
          matched->reference_detections));
      if (std::find(r.failures.begin(), r.failures.end(), report.failures.back()) == r.failures.end())
        r.failures.push_back(report.failures.back());
    }
    if (!report.passed) shape.passed = false;
    if (report.count_mismatch) {
      r.report.count_mismatch = true;
      r.report.count_a = report.count_a;
      r.report.count_b = report.count_b;
    }
    if (per_output.size() < report.outputs.size()) per_output.resize(report.outputs.size());
    for (size_t k = 0; k < report.outputs.size(); ++k) per_output[k].push_back(report.outputs[k]);
    if (classifier_output(out_a, c.labels)) acc_a.emplace_back(out_a[0], c.labels);
    if (classifier_output(out_b, c.labels) && b) acc_b.emplace_back(out_b[0], c.labels);
    if (!r.report.count_mismatch) {
      r.report.count_a = report.count_a;
      r.report.count_b = report.count_b;
    }
  }
  for (size_t k = 0; k < per_output.size(); ++k) {
    auto own = row_tolerance.find(k);
    r.report.outputs.push_back(merge_comparisons(per_output[k], own == row_tolerance.end() ? r.tolerance : own->second));
  }
  if (r.report.count_mismatch)
    r.failures.insert(r.failures.begin(), fmt::format("output count {} vs {}", r.report.count_a, r.report.count_b));
  for (const auto& out : r.report.outputs)
    for (const auto& f : out.failures) r.failures.push_back(f);
  // A shape that fails while the example shape passes points at a frozen dim.
  if (r.shapes.size() > 1 && r.shapes[0].passed)
    for (size_t s = 1; s < r.shapes.size(); ++s)
      if (!r.shapes[s].passed)
        r.failures.push_back(fmt::format("passes at {} but not at {}: a dynamic dim may have been frozen at export",
                                         r.shapes[0].shapes, r.shapes[s].shapes));
  if (!acc_a.empty()) {
    r.accuracy_a = accuracy(acc_a);
    r.labelled_samples = 0;
    for (const auto& [l, y] : acc_a) r.labelled_samples += y.numel();
  }
  if (!acc_b.empty()) r.accuracy_b = accuracy(acc_b);
  if (!o.save_outputs.empty()) {
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (size_t k = 0; k < saved.size(); ++k)
      named.emplace_back(k < names.size() ? names[k] : "output" + std::to_string(k), saved[k]);
    save_tensors(o.save_outputs, named);
  }
  r.report.failures = r.failures;
  r.passed = r.failures.empty() && r.cases > 0;
  if (r.cases == 0 && r.failures.empty()) r.failures.push_back("no input case ran");
  r.report.passed = r.passed;
  return r;
}

}  // namespace mlopt
