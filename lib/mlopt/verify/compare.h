#pragma once
// Output comparison metrics: how close two artifacts' outputs are, output by
// output. Shared by verify, quantize, prune and the pipeline gates.
// Torch-free: at::Tensor is only forward-declared.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace mlopt {

// What counts as "the same". An element passes when
// |a - b| <= atol + scale_atol * max|b| + rtol * |b| (b is the reference): numpy.allclose
// with an absolute part that grows with the output's scale, because float sums
// in another order (another kernel, another runtime) differ by rounding that
// is relative to the magnitudes summed, not to each element (a deep network's
// elements near zero carry the error of its large ones). The fp32 rtol is
// torch.onnx.verification's and ONNX's real-model tests' 1e-3: a squashing
// output (a sigmoid score) carries the relative error of the logits before it
// (FCOS-ResNet50's scores against its own export: 5.4e-5 at scores near 0.2).
struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-5;
  double scale_atol = 1e-4;      // share of the reference's largest magnitude added to atol
  double min_cosine = 0.999;     // cosine similarity of the flattened outputs
  double min_top1 = 0.99;        // classifier outputs: share of rows whose argmax agrees
  double max_outside = 0.0;      // share of elements allowed outside rtol/atol
  std::string precision = "fp32";  // what the defaults were chosen for (reported)

  // Defaults that fit the precision being compared: fp32, fp16, bf16, int8.
  static Tolerance for_precision(const std::string& precision);
  nlohmann::json to_json() const;
};

struct OutputComparison {
  std::string name;
  std::vector<int64_t> shape_a, shape_b;
  std::string dtype_a, dtype_b;
  bool shape_mismatch = false;
  bool dtype_mismatch = false;    // different kinds (float vs integer vs bool): a failure
  bool dtype_differs = false;     // e.g. float16 vs float32: noted, compared in float64
  int64_t elements = 0;
  double max_abs_error = 0;
  double max_rel_error = 0;       // |a - b| / |b| over elements with b != 0
  double mean_abs_error = 0;
  double cosine_similarity = 1;
  int64_t outside_count = 0;      // elements outside rtol/atol (NaN in one only counts)
  double atol_used = 0;           // atol + scale_atol * max|b| (the largest over the cases compared)
  double outside_share = 0;
  bool classifier = false;        // [N, C] floating output, C >= 2
  std::optional<double> top1_agreement;
  int64_t rows = 0;               // classifier rows compared
  bool passed = true;
  std::vector<std::string> failures;  // one line each: what failed and by how much

  // Sums kept so that comparisons of several batches merge exactly.
  double dot = 0, norm_a2 = 0, norm_b2 = 0, abs_error_sum = 0;
  int64_t top1_agree = 0;

  nlohmann::json to_json() const;
};

struct ComparisonReport {
  std::vector<OutputComparison> outputs;
  int64_t count_a = 0, count_b = 0;
  bool count_mismatch = false;
  bool passed = true;
  std::vector<std::string> failures;

  nlohmann::json to_json() const;
};

// Compares one output `a` (candidate) to `b` (reference). A floating [N, C >= 2]
// output counts as a classifier's logits (top-1 agreement measured and floored)
// unless `logits` is false (a detector's [N, 4] boxes).
OutputComparison compare_tensors(const std::string& name, const at::Tensor& a, const at::Tensor& b,
                                 const Tolerance& tolerance, bool logits = true);

// Compares output lists position by position; `names` (optional) labels them;
// `not_logits`: the positions that are never a classifier's logits;
// `per_output`: tolerances of their own for some positions.
ComparisonReport compare_outputs(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b,
                                 const Tolerance& tolerance, const std::vector<std::string>& names = {},
                                 const std::vector<size_t>& not_logits = {},
                                 const std::map<size_t, Tolerance>& per_output = {});

// Folds several comparisons of the same outputs (several batches or shapes)
// into one: maxima of maxima, element-weighted means, pooled top-1.
OutputComparison merge_comparisons(const std::vector<OutputComparison>& parts, const Tolerance& tolerance);

}  // namespace mlopt
